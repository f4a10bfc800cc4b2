"""Write the corpus out: one .eml per case and expected.json, for reading or replaying by hand.

    python -m tests.corpus.generate OUT_DIR        # the cases as files
    python -m tests.corpus.generate --office       # (re)make the .xls and .pdf fixtures with LibreOffice

The cases themselves are defined in tests/corpus/cases.py; this only writes them down.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.corpus.cases import FILES, TO_TRINH_TEXT, all_cases, docx, standard_rows, xlsx


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


def _convert(soffice: str, name: str, payload: bytes, to: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / name
        source.write_bytes(payload)
        subprocess.run(
            [soffice, "--headless", "--convert-to", to, "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        FILES.mkdir(exist_ok=True)
        target = FILES / f"{source.stem}.{to}"
        shutil.copy(Path(tmp) / target.name, target)
    return target


# A Biên bản whose style sheet has "Book Title" (a style LibreOffice writes): the UTF-16 text
# "Book" in a Word 97 file once made it pass for an Excel 97 workbook.
BOOK_TITLE_FODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:styles>
  <style:style style:name="Book_20_Title" style:display-name="Book Title" style:family="paragraph">
   <style:text-properties fo:font-weight="bold"/>
  </style:style>
 </office:styles>
 <office:body><office:text>
  <text:p text:style-name="Book_20_Title">BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG</text:p>
  <text:p>Hội đồng đã xem xét và thống nhất đề nghị khen thưởng các tập thể, cá nhân.</text:p>
 </office:text></office:body>
</office:document>"""


def make_office_fixtures() -> list[Path]:
    """Excel 97-2003 from the standard list, a PDF Tờ trình with a text layer, and two Word 97
    Biên bản (one saying "Workbook", one with the "Book Title" style), converted by LibreOffice
    (not needed in CI: the results are committed)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is needed to make the office fixtures")
    workbook_text = [
        "BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG",
        "Hội đồng đã xem xét danh sách (Workbook kèm theo) và thống nhất đề nghị.",
    ]
    return [
        _convert(soffice, "danh-sach-excel-97.xlsx", xlsx({"Danh sách": standard_rows()}), "xls"),
        _convert(soffice, "scan-0001.docx", docx(TO_TRINH_TEXT), "pdf"),
        _convert(soffice, "bien-ban-hop-hoi-dong.docx", docx(workbook_text), "doc"),
        _convert(soffice, "bien-ban-kieu-book-title.fodt", BOOK_TITLE_FODT.encode(), "doc"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--office", action="store_true", help="remake the LibreOffice fixtures")
    args = parser.parse_args()
    if args.office:
        for path in make_office_fixtures():
            print(f"wrote {path}")
    if args.out:
        print(f"wrote {write_corpus(args.out)} cases to {args.out}")


if __name__ == "__main__":
    main()
