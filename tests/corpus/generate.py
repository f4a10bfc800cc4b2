"""Write the corpus out: one .eml per case and expected.json, for reading or replaying by hand.

    python -m tests.corpus.generate OUT_DIR        # the cases as files
    python -m tests.corpus.generate --xls          # (re)make the .xls fixture with LibreOffice

The cases themselves are defined in tests/corpus/cases.py; this only writes them down.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.corpus.cases import FILES, all_cases, standard_rows, xlsx


def write_corpus(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    expected = {}
    for case in all_cases():
        (out / f"{case.name}.eml").write_bytes(case.build(f"<{case.name}@corpus.test>"))
        expected[case.name] = {
            "category": case.category,
            "sender": case.sender,
            "outcome": case.expect.outcome,
            "errors": sorted(case.expect.errors),
            "warnings": sorted(case.expect.warnings),
            "nominees": case.expect.nominees,
            "names": list(case.expect.names),
        }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2))
    return len(expected)


def make_xls_fixture() -> Path:
    """Excel 97-2003 from the standard list, converted by LibreOffice (not needed in CI)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is needed to make the .xls fixture")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "danh-sach-excel-97.xlsx"
        source.write_bytes(xlsx({"Danh sách": standard_rows()}))
        subprocess.run(
            [soffice, "--headless", "--convert-to", "xls", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        FILES.mkdir(exist_ok=True)
        target = FILES / "danh-sach-excel-97.xls"
        shutil.copy(Path(tmp) / "danh-sach-excel-97.xls", target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--xls", action="store_true", help="remake the .xls fixture")
    args = parser.parse_args()
    if args.xls:
        print(f"wrote {make_xls_fixture()}")
    if args.out:
        print(f"wrote {write_corpus(args.out)} cases to {args.out}")


if __name__ == "__main__":
    main()
