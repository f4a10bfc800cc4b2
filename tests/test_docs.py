from pipeline.findings import CATALOGUE
from tests.conftest import ROOT


def test_every_finding_code_is_documented() -> None:
    documented = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    missing = [code for code in CATALOGUE if f"`{code}`" not in documented]
    assert missing == []
