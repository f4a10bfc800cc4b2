"""Digital signatures on PDF papers: a test CA and signers made with `cryptography`, PDFs from
LibreOffice signed with pyHanko (incremental update, visible and invisible), then every case the
Department meets: valid and trusted, an untrusted root, changed after signing, another
organisation's signer, unsigned, a signature over only part of the file, and files built to
exhaust the reader."""

from __future__ import annotations

import email
import io
import zipfile
from email import policy
from pathlib import Path

import pytest
from sqlmodel import Session, select

from domain.campaign import Campaign, SignaturePolicy
from domain.kinds import DocumentKind, Severity
from pipeline.examine import examine
from pipeline.parse import parse_message
from pipeline.signatures import check_signatures, load_trust_roots, looks_like
from samples.factories import File, NominationList, build_email, collectives, dossier, people
from storage.db import make_engine
from storage.models import DocumentRecord
from tests.conftest import CAMPAIGN_FILE, vn, write_maildir_config
from tests.signing import Identity, make_ca, make_signer, sign_pdf, tamper
from tests.test_faults import poll

FILES = Path(__file__).parent / "files"
TO_TRINH = (FILES / "to-trinh-libreoffice.pdf").read_bytes()
BIEN_BAN = (FILES / "bien-ban-libreoffice.pdf").read_bytes()
TAM_DUONG = "vanphong@tamduong.laichau.gov.vn"
PDF = "application/pdf"


@pytest.fixture(scope="module")
def ca() -> Identity:
    return make_ca()


@pytest.fixture(scope="module")
def clerk(ca: Identity) -> Identity:
    return make_signer(ca, "Nguyễn Văn An", "UBND huyện Tam Đường")


def roots(*identities: Identity) -> list:  # type: ignore[type-arg]
    return load_trust_roots([i.pem for i in identities])


def codes(campaign: Campaign, papers: list[File], trust: list | None) -> dict[str, Severity]:  # type: ignore[type-arg]
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        people("Nguyễn Văn", 2),
        with_turnout=True,
    )
    list_file = dossier(spec, to_trinh=False, bien_ban=False)
    mail = parse_message(
        build_email(sender=TAM_DUONG, subject="Hồ sơ", files=[*list_file, *papers])
    )
    unit = campaign.unit_by_sender[TAM_DUONG]
    _, _, verdict = examine(mail, unit, campaign, vn(20), trust)
    return {f.code: f.severity for f in verdict.findings if f.code.startswith("SIGNATURE")}


def test_a_valid_trusted_signature_says_who_signed_and_when(ca: Identity, clerk: Identity) -> None:
    signed = sign_pdf(TO_TRINH, clerk, ca, visible=True)
    result = check_signatures(signed, roots(ca))
    [sig] = result.signatures
    assert (sig.signer, sig.organisation) == ("Nguyễn Văn An", "UBND huyện Tam Đường")
    assert sig.intact and not sig.modified and sig.whole and sig.trusted
    assert sig.signed_at is not None
    text = result.describe(vn(20).tzinfo)  # type: ignore[arg-type]
    assert text.startswith("đã ký số bởi Nguyễn Văn An (UBND huyện Tam Đường), lúc ")


def test_each_kind_of_problem_is_found(campaign: Campaign, ca: Identity, clerk: Identity) -> None:
    stranger = make_signer(ca, "Trần Văn Bình", "Công ty TNHH Ký Số Hộ")
    other_ca = make_ca("CA khác")
    outsider = make_signer(other_ca, "Lò Văn Tám", "UBND huyện Tam Đường")
    signed = sign_pdf(TO_TRINH, clerk, ca)
    cases = {
        "trusted": (signed, set()),
        "untrusted root": (sign_pdf(TO_TRINH, outsider, other_ca), {"SIGNATURE_UNTRUSTED"}),
        "changed after signing": (tamper(signed), {"SIGNATURE_MODIFIED"}),
        "another organisation": (
            sign_pdf(TO_TRINH, stranger, ca),
            {"SIGNATURE_OTHER_ORGANISATION"},
        ),
        "part of the file": (signed + b"\n4 0 obj\n<< >>\nendobj\n", {"SIGNATURE_PARTIAL"}),
        "bytes flipped": (
            signed[:700] + bytes([signed[700] ^ 1]) + signed[701:],
            {"SIGNATURE_MODIFIED"},
        ),
    }
    for name, (payload, expected) in cases.items():
        found = codes(campaign, [File("Tờ trình số 12.pdf", payload, PDF)], roots(ca))
        assert set(found) == expected, name
    modified = codes(campaign, [File("Tờ trình.pdf", tamper(signed), PDF)], roots(ca))
    assert modified["SIGNATURE_MODIFIED"] is Severity.ERROR  # the campaign's default policy
    # Without trust roots configured, "untrusted" means nothing and is not said.
    assert codes(campaign, [File("Tờ trình.pdf", signed, PDF)], None) == {}


def test_an_unsigned_paper_follows_the_campaigns_policy(campaign: Campaign) -> None:
    papers = [File("Tờ trình.pdf", TO_TRINH, PDF), File("Biên bản họp.pdf", BIEN_BAN, PDF)]
    assert codes(campaign, papers, None) == {}  # "accept"
    warn = campaign.model_copy(update={"signatures": SignaturePolicy(unsigned="warn")})
    assert codes(warn, papers, None) == {"SIGNATURE_MISSING": Severity.WARNING}
    required = campaign.model_copy(
        update={"signatures": SignaturePolicy(unsigned="require_to_trinh")}
    )
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        people("Nguyễn Văn", 2),
        with_turnout=True,
    )
    mail = parse_message(
        build_email(
            sender=TAM_DUONG,
            subject="Hồ sơ",
            files=[*dossier(spec, to_trinh=False, bien_ban=False), *papers],
        )
    )
    _, _, verdict = examine(mail, campaign.unit_by_sender[TAM_DUONG], required, vn(20), None)
    missing = [f for f in verdict.findings if f.code == "SIGNATURE_MISSING"]
    assert [(f.severity, "Tờ trình" in f.message) for f in missing] == [(Severity.ERROR, True)]


def test_a_signed_pdf_inside_a_zip_is_checked(
    campaign: Campaign, ca: Identity, clerk: Identity
) -> None:
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("Tờ trình.pdf", tamper(sign_pdf(TO_TRINH, clerk, ca)))
    found = codes(campaign, [File("Hồ sơ.zip", bundle.getvalue(), "application/zip")], roots(ca))
    assert found == {"SIGNATURE_MODIFIED": Severity.ERROR}


def test_files_built_to_exhaust_the_reader_get_an_outcome(campaign: Campaign) -> None:
    fields = b"".join(
        f"{10 + i} 0 obj\n<< /FT /Sig /T (Sig{i}) /Rect [0 0 0 0] /Subtype /Widget >>\nendobj\n".encode()
        for i in range(3000)
    )
    refs = b" ".join(f"{10 + i} 0 R".encode() for i in range(3000))
    many = (
        TO_TRINH.replace(b"%%EOF", b"")
        + fields
        + b"1 0 obj\n<< /AcroForm << /Fields ["
        + refs
        + b"] >> >>\nendobj\n%%EOF\n"
    )
    broken_xref = TO_TRINH.replace(b"startxref", b"startxref\n999999999\n%")
    for payload in (many, broken_xref, b"%PDF-1.7\n" + b"\x00" * 5000):
        result = check_signatures(payload, [])
        assert not result.signed  # an outcome, not an exception
    found = codes(campaign, [File("Tờ trình.pdf", b"%PDF-1.7\ntrailer<<>>", PDF)], None)
    assert found == {"SIGNATURE_UNREADABLE": Severity.WARNING}


def test_an_organisation_is_recognised_by_the_units_name_or_alias() -> None:
    names = ["UBND huyện Tam Đường", "Huyện ủy Tam Đường"]
    assert looks_like("ỦY BAN NHÂN DÂN HUYỆN TAM ĐƯỜNG", names)
    assert looks_like("UBND huyện Tam Đường, Văn phòng HĐND và UBND", names)
    assert not looks_like("UBND huyện Sìn Hồ", names)
    assert not looks_like("", names)


def test_the_acknowledgement_lists_each_paper_with_its_signature(
    tmp_path: Path, ca: Identity, clerk: Identity
) -> None:
    (tmp_path / "mailbox" / "new").mkdir(parents=True)
    for folder in ("cur", "tmp"):
        (tmp_path / "mailbox" / folder).mkdir()
    config = write_maildir_config(tmp_path, CAMPAIGN_FILE)
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[signatures]\ntrust_roots = ["{tmp_path / "ca.pem"}"]\n',
        encoding="utf-8",
    )
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        people("Nguyễn Văn", 2),
        with_turnout=True,
    )
    papers = [
        File("Tờ trình đề nghị khen thưởng.pdf", sign_pdf(TO_TRINH, clerk, ca, visible=True), PDF),
        File("Biên bản họp Hội đồng TĐKT.pdf", tamper(sign_pdf(BIEN_BAN, clerk, ca)), PDF),
        File("Tóm tắt thành tích.pdf", BIEN_BAN, PDF),
    ]
    raw = build_email(
        sender=TAM_DUONG,
        subject="Hồ sơ khen thưởng",
        files=[*dossier(spec, to_trinh=False, bien_ban=False), *papers],
        date=vn(20),
    )
    (tmp_path / "mailbox" / "new" / "1.eml").write_bytes(raw)
    code, output = poll(config)
    assert code == 0, output
    [reply] = sorted((tmp_path / "outbox").glob("*.eml"))
    parsed = email.message_from_bytes(reply.read_bytes(), policy=policy.default)
    text = str(parsed.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert (
        "Tờ trình đề nghị khen thưởng.pdf – đã ký số bởi Nguyễn Văn An (UBND huyện Tam Đường), lúc "
        in text
    )
    assert (
        "Biên bản họp Hội đồng TĐKT.pdf – đã ký số bởi Nguyễn Văn An (UBND huyện Tam Đường)" in text
    )
    assert "TỆP ĐÃ BỊ SỬA SAU KHI KÝ" in text
    assert "Tóm tắt thành tích.pdf – chưa ký số" in text
    assert "[Chưa tiếp nhận" in str(parsed["Subject"])  # the tampered minutes are an error
    (tmp_path / "reply.txt").write_text(text, encoding="utf-8")
    assert DocumentKind.BIEN_BAN.label in text
    # The desk and the package read what was stored with each paper.
    with Session(make_engine(f"sqlite:///{tmp_path / 'intake.db'}")) as session:
        stored = {d.filename: d.signature for d in session.exec(select(DocumentRecord))}
    assert stored["Tóm tắt thành tích.pdf"] == "chưa ký số"
    assert stored["Biên bản họp Hội đồng TĐKT.pdf"].endswith("TỆP ĐÃ BỊ SỬA SAU KHI KÝ")
    assert stored["Danh sách đề nghị khen thưởng.xlsx"] == ""


def test_signatures_that_could_not_all_be_checked_are_said(campaign: Campaign) -> None:
    from domain.model import Document, PaperSignatures, SignatureCheck
    from pipeline.validate import Dossier, signed_papers

    checked = SignatureCheck("Nguyễn Văn An", "UBND huyện Tam Đường", None, True, False, True, True)
    document = Document(
        "Tờ trình.pdf",
        DocumentKind.TO_TRINH,
        PDF,
        1,
        "x",
        PaperSignatures((checked,), unreadable="ValueError: second signature"),
    )
    unit = campaign.unit_by_sender[TAM_DUONG]
    dossier_ = Dossier(unit, campaign, vn(20), (), (document,), trust_configured=True)
    assert [f.code for f in signed_papers(dossier_)] == ["SIGNATURE_UNREADABLE"]
