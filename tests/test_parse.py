"""Parsing real MIME: encoded Vietnamese headers and file names, forwarded mail, auto-replies."""

from __future__ import annotations

from email.message import EmailMessage

from pipeline.envelope import message_bytes
from pipeline.guard import automatic_reason
from pipeline.parse import parse_message
from samples.factories import File, build_email

LONG_SUBJECT = (
    "Danh sách đề nghị khen thưởng bầu cử huyện Sìn Hồ gửi Sở Nội vụ tỉnh Lai Châu và Quảng Nam"
)
OWN = frozenset({"pxdcq.sonv@laichau.gov.vn"})


def test_folded_rfc2047_subject_keeps_its_spaces() -> None:
    raw = build_email(sender="vanphong@sinho.laichau.gov.vn", subject=LONG_SUBJECT)
    assert b"=?utf-8?" in raw  # really encoded, and folded over lines
    assert parse_message(raw).subject == LONG_SUBJECT


def test_outgoing_subjects_survive_the_standard_library_folder() -> None:
    # CPython 3.11 alone turns this subject into "... bầucử ..." when it folds the header.
    msg = EmailMessage()
    msg["Subject"] = "Danh sách đề nghị khen thưởng bầu cử huyện Sìn Hồ"
    msg.set_content("x")
    assert (
        parse_message(message_bytes(msg)).subject
        == "Danh sách đề nghị khen thưởng bầu cử huyện Sìn Hồ"
    )


def test_rfc2231_file_names_and_sender_are_decoded() -> None:
    raw = build_email(
        sender="VanPhong@TamDuong.LaiChau.gov.vn",
        sender_name="Văn phòng HĐND-UBND huyện Tam Đường",
        subject="Hồ sơ",
        files=[
            File(
                "Danh sách đề nghị khen thưởng tập thể, cá nhân.xlsx",
                b"PK",
                "application/octet-stream",
            )
        ],
    )
    mail = parse_message(raw)
    assert mail.from_address == "vanphong@tamduong.laichau.gov.vn"
    assert mail.from_name == "Văn phòng HĐND-UBND huyện Tam Đường"
    assert [a.filename for a in mail.attachments] == [
        "Danh sách đề nghị khen thưởng tập thể, cá nhân.xlsx"
    ]
    assert mail.attachments[0].payload == b"PK"


def test_a_forwarded_message_contributes_its_attachments_once() -> None:
    inner = EmailMessage()
    inner["From"] = "chuyenvien@tamduong.laichau.gov.vn"
    inner["Subject"] = "Danh sách"
    inner.set_content("Gửi chị bản danh sách.")
    inner.add_attachment(
        b"PK-list", maintype="application", subtype="octet-stream", filename="Danh sách.xlsx"
    )
    outer = EmailMessage()
    outer["From"] = "vanphong@tamduong.laichau.gov.vn"
    outer["To"] = "pxdcq.sonv@laichau.gov.vn"
    outer["Subject"] = "Fwd: Danh sách"
    outer.set_content("Chuyển tiếp hồ sơ.")
    outer.add_attachment(
        b"%PDF-letter", maintype="application", subtype="pdf", filename="Tờ trình.pdf"
    )
    outer.add_attachment(inner)
    mail = parse_message(message_bytes(outer))
    assert sorted(a.filename for a in mail.attachments) == ["Danh sách.xlsx", "Tờ trình.pdf"]
    assert all(a.content_type != "message/rfc822" for a in mail.attachments)


def test_automatic_mail_is_recognised() -> None:
    def reason(**headers: str) -> str | None:
        raw = build_email(sender="vanphong.syt@laichau.gov.vn", subject="Vắng mặt", headers=headers)
        return automatic_reason(parse_message(raw), OWN)

    assert reason() is None
    assert reason(**{"Auto-Submitted": "auto-replied"}) is not None
    assert reason(**{"Auto-Submitted": "no"}) is None
    assert reason(Precedence="bulk") is not None
    assert reason(**{"List-Id": "<tin-tuc.laichau.gov.vn>"}) is not None
    assert reason(**{"Return-Path": "<>"}) is not None
    assert reason(**{"X-Autoreply": "yes"}) is not None
    own = parse_message(build_email(sender="pxdcq.sonv@laichau.gov.vn", subject="x"))
    assert automatic_reason(own, OWN) == "sent from our own address"


def test_garbage_is_parsed_without_raising() -> None:
    mail = parse_message(b"\x00\xff not an email at all \r\n\r\n\x00")
    assert mail.attachments == ()


def test_authentication_results_failures_are_read() -> None:
    from pipeline.guard import forged_sender_reason

    def reason(value: str | None) -> str | None:
        headers = {"Authentication-Results": value} if value else {}
        return forged_sender_reason(
            parse_message(
                build_email(sender="vanphong.snv@laichau.gov.vn", subject="x", headers=headers)
            )
        )

    assert reason(None) is None
    assert reason("mx; dkim=pass; dmarc=pass") is None
    assert reason("mx; dkim=fail header.d=x; dmarc=pass") == "DKIM không hợp lệ"
    assert reason("mx; spf=pass; dkim=pass; DMARC=FAIL") == "DMARC không hợp lệ"


def _nested(depth: int, from_header: str) -> bytes:
    head = f"From: {from_header}\r\nTo: pxdcq.sonv@laichau.gov.vn\r\nSubject: Hồ sơ\r\n"
    head += "MIME-Version: 1.0\r\n"
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nxin gửi\r\n" + closing).encode()


def test_parts_nested_a_thousand_deep_still_give_the_sender_and_say_why() -> None:
    mail = parse_message(_nested(1000, "Văn phòng <vanphong.snv@laichau.gov.vn>"))
    assert mail.from_address == "vanphong.snv@laichau.gov.vn"
    assert mail.structure_unreadable and mail.attachments == ()
    assert not parse_message(_nested(5, "vanphong.snv@laichau.gov.vn")).structure_unreadable


def test_a_display_name_that_decodes_to_a_line_break_keeps_the_address() -> None:
    """An encoded word can carry CR LF (and a colon) into the decoded name; the address is still
    the sender's, and the name that goes back into our reply's To has no line break."""
    mail = parse_message(
        _nested(1, "=?utf-8?q?V=C4=83n_th=C6=B0=0D=0ABcc=3A_x?= <vanphong.snv@laichau.gov.vn>")
    )
    assert mail.from_address == "vanphong.snv@laichau.gov.vn"
    assert "\r" not in mail.from_name and "\n" not in mail.from_name
    assert mail.from_name.startswith("Văn thư")
