"""Officers' decisions from the command line, through Dovecot and a real SMTP server, on SQLite
and PostgreSQL: the stored state, the one mail the unit receives, the audit row; the chain
catching a changed and a deleted row; the Prime Minister's quota enforced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from domain.kinds import AuditAction, MailKind, Outcome, SubmissionStatus
from samples.factories import (
    PM,
    PROVINCIAL,
    NominationList,
    Row,
    build_email,
    collectives,
    dossier,
    people,
)
from storage.db import make_engine
from storage.models import AuditEntry, InboundMessage, OutboundMail, Submission
from tests.conftest import Servers, move_to_postgres, vn
from tests.test_intake_imap import SNV, TAM_DUONG, body

pytestmark = pytest.mark.integration
STP = "vanphong.stp@laichau.gov.vn"


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> Iterator[Servers]:
    """The servers, with the database on SQLite or on a fresh PostgreSQL database."""
    if request.param == "postgresql":
        move_to_postgres(servers, tmp_path / "pg", request.getfixturevalue("fresh_postgres"))
    yield servers


def run(servers: Servers, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--config", str(servers.config), *args])
    assert result.exit_code == code, result.output
    return result.output


def session(servers: Servers) -> Session:
    return Session(make_engine(servers.db_url))


def current(servers: Servers, unit: str) -> Submission:
    with session(servers) as s:
        return s.exec(
            select(Submission).where(Submission.unit_code == unit, Submission.is_current)
        ).one()


def audit_rows(servers: Servers, action: AuditAction) -> list[AuditEntry]:
    with session(servers) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action.value)).all())


def decision_mails(servers: Servers, recipient: str) -> list[str]:
    """Subjects of the officers' notices (the automatic replies answer with "Re: …")."""
    return [
        str(m["Subject"])
        for m in servers.replies(recipient)
        if "] Re: " not in str(m["Subject"]) and not str(m["Subject"]).startswith("Re: ")
    ]


def snv_without_minutes() -> bytes:
    spec = NominationList(
        "Sở Nội vụ", collectives(["Phòng Xây dựng chính quyền"]), people("Trần Thị", 3)
    )
    return build_email(
        sender=SNV,
        sender_name="Sở Nội vụ",
        subject="Hồ sơ khen thưởng",
        files=dossier(spec, bien_ban=False),
        date=vn(20),
    )


def test_accepting_despite_findings_then_rejecting_each_tells_the_unit_once(setup: Servers) -> None:
    servers = setup
    servers.append(snv_without_minutes(), vn(20, 9))
    run(servers, "poll")
    rejected = current(servers, "SNV")
    assert rejected.status == SubmissionStatus.REJECTED
    [automatic] = servers.replies(SNV)
    original_id = str(automatic["In-Reply-To"])

    # Not every error named: refused, nothing changes, nothing is sent.
    refused = run(
        servers,
        "decide",
        "accept",
        "SNV",
        "--waive",
        "NOTHING",
        "-r",
        "Biên bản gửi bản giấy",
        code=2,
    )
    assert "còn 1 lỗi chưa chọn: DOCUMENT_MISSING" in refused
    assert run(servers, "decide", "accept", "SNV", "-r", "ok", code=2).count("Cần ghi lý do") == 1

    out = run(
        servers,
        "decide",
        "accept",
        "SNV",
        "--waive",
        "DOCUMENT_MISSING",
        "-r",
        "Biên bản họp gửi bản giấy qua bưu điện ngày 24/5",
        "--actor",
        "nguyenvana",
    )
    assert "Đã tiếp nhận hồ sơ" in out
    accepted = current(servers, "SNV")
    assert accepted.status == SubmissionStatus.ACCEPTED
    assert accepted.decision_by == "người vận hành (nguyenvana)"
    [told] = decision_mails(servers, SNV)
    assert told.startswith("[Đã tiếp nhận]"), told
    notice = next(m for m in servers.replies(SNV) if str(m["Subject"]) == told)
    assert str(notice["In-Reply-To"]) == original_id  # threaded under the unit's own mail
    assert "Biên bản họp gửi bản giấy qua bưu điện" in body(notice)
    assert "Biên bản họp Hội đồng Thi đua" in body(notice)  # the waived finding, as told before
    [row] = audit_rows(servers, AuditAction.ACCEPT_DESPITE_FINDINGS)
    assert row.actor == "người vận hành (nguyenvana)" and row.unit_code == "SNV"
    assert json.loads(row.details)["waived"][0]["code"] == "DOCUMENT_MISSING"

    # The same decision again (a second click): refused, no second mail.
    run(
        servers,
        "decide",
        "accept",
        "SNV",
        "--waive",
        "ALL",
        "-r",
        "lần nữa cho chắc",
        code=2,
    )
    assert len(decision_mails(servers, SNV)) == 1
    # The operator names a version the unit has since replaced: refused.
    stale = run(
        servers, "decide", "reject", "SNV", "--version", "2", "-r", "Sai mẫu Tờ trình", code=2
    )
    assert "là lần 1, không phải lần 2" in stale

    run(
        servers,
        "decide",
        "reject",
        "SNV",
        "-r",
        "Tờ trình chưa có chữ ký của Giám đốc Sở",
    )
    assert current(servers, "SNV").status == SubmissionStatus.REJECTED
    subjects = decision_mails(servers, SNV)
    assert len(subjects) == 2 and subjects[1].startswith("[Chưa tiếp nhận]"), subjects
    assert len(audit_rows(servers, AuditAction.REJECT)) == 1
    # A rejected unit is a missing one again: the digest and reminders see it.
    assert "SNV" in run(servers, "status")


def test_an_extension_makes_later_mail_on_time_and_moves_the_reminders(setup: Servers) -> None:
    servers = setup
    run(
        servers,
        "decide",
        "extend",
        "STP",
        "--until",
        "28/05/2021 17:00",
        "-r",
        "Đơn vị có văn bản xin lùi hạn số 12/STP",
    )
    [told] = decision_mails(servers, STP)
    assert "17:00 ngày 28/05/2021" in told, told
    [row] = audit_rows(servers, AuditAction.EXTEND_DEADLINE)
    assert json.loads(row.details)["to"] == "17:00 ngày 28/05/2021"

    # Due reminders on the 27th (after the general deadline): only STP, against its own day.
    due = run(servers, "remind", "--dry-run", "--at", "27/05/2021 09:00")
    assert "STP" in due and "H-TAMDUONG" not in due, due

    spec = NominationList(
        "Sở Tư pháp", collectives(["Phòng Hành chính tư pháp"]), people("Lê Văn", 2)
    )
    servers.append(
        build_email(sender=STP, subject="Hồ sơ", files=dossier(spec), date=vn(27)), vn(27, 10)
    )
    run(servers, "poll")
    stp = current(servers, "STP")
    assert stp.status == SubmissionStatus.ACCEPTED and not stp.late
    # An earlier instant than the general deadline is no extension.
    assert "phải sau hạn chung" in run(
        servers,
        "decide",
        "extend",
        "SNV",
        "--until",
        "20/05/2021 17:00",
        "-r",
        "thử hạn sớm hơn",
        code=2,
    )


def test_registering_a_new_address_reprocesses_its_mail_as_the_units(setup: Servers) -> None:
    servers = setup
    clerk = "vanthu.moi@tamduong.laichau.gov.vn"
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        people("Nguyễn Văn", 2),
        with_turnout=True,
    )
    servers.append(
        build_email(
            sender=clerk,
            subject="Hồ sơ khen thưởng huyện Tam Đường",
            files=dossier(spec),
            date=vn(21),
        ),
        vn(21),
    )
    run(servers, "poll")
    with session(servers) as s:
        message = s.exec(select(InboundMessage)).one()
    assert message.outcome == Outcome.UNKNOWN_SENDER
    before = len(servers.replies(clerk))

    run(
        servers,
        "decide",
        "register",
        clerk.upper(),
        "--unit",
        "H-TAMDUONG",
        "--message",
        str(message.id),
        "-r",
        "Văn thư mới của UBND huyện, xác nhận qua điện thoại",
    )
    tam_duong = current(servers, "H-TAMDUONG")
    assert tam_duong.status == SubmissionStatus.ACCEPTED
    acknowledgements = [m for m in servers.replies(clerk)[before:] if "TIẾP NHẬN" in body(m)]
    assert len(acknowledgements) == 1
    [row] = audit_rows(servers, AuditAction.REGISTER_SENDER)
    assert json.loads(row.details) == {"address": clerk, "message": message.id}
    # The address is the unit's now: reminders go to it too, and it cannot be given to another.
    assert "đã là địa chỉ gửi của đơn vị H-TAMDUONG" in run(
        servers, "decide", "register", clerk, "--unit", "SNV", "-r", "nhầm đơn vị", code=2
    )
    # Later mail from it is the unit's without any decision.
    assert clerk != TAM_DUONG


def test_the_prime_ministers_selection_is_capped_stored_and_listed(setup: Servers) -> None:
    servers = setup
    both = f"{PROVINCIAL}; đề nghị {PM}"
    names = ["Hoàng Thị Hòa", "Lò Văn Minh", "Tòng Văn Sơn", "Vàng Thị Mai"]
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        [Row(n, award=both) for n in names],
        with_turnout=True,
    )
    servers.append(
        build_email(sender=TAM_DUONG, subject="Hồ sơ", files=dossier(spec, reports_for=names)),
        vn(22),
    )
    run(servers, "poll")
    assert current(servers, "H-TAMDUONG").status == SubmissionStatus.ACCEPTED

    over = run(
        servers,
        "decide",
        "select",
        "-r",
        "Thành tích xuất sắc",
        *[a for n in names for a in ("-p", f"H-TAMDUONG/ca-nhan/{n}")],
        code=2,
    )
    assert "tối đa 3 cá nhân" in over and "đã chọn 4" in over
    assert "không có trong danh sách" in run(
        servers, "decide", "select", "-r", "Người lạ", "-p", "SNV/ca-nhan/Người Lạ", code=2
    )

    run(
        servers,
        "decide",
        "select",
        "-r",
        "Thành tích xuất sắc trong bầu cử",
        "-p",
        f"H-TAMDUONG/ca-nhan/{names[1]}",
        "-p",
        f"H-TAMDUONG/ca-nhan/{names[0]}",
    )
    [row] = audit_rows(servers, AuditAction.SELECT_NOMINEES)
    assert json.loads(row.details)["selected"] == [
        f"{names[1]} (H-TAMDUONG)",
        f"{names[0]} (H-TAMDUONG)",
    ]
    preview = run(servers, "digest", "--preview")
    assert f"{names[1]}" in preview and "2/3 cá nhân" in preview, preview

    from openpyxl import load_workbook

    path = Path(servers.config).parent / "tong-hop.xlsx"
    run(servers, "export", str(path))
    sheet = load_workbook(path)["Đề nghị PM"]
    listed = {c.value for row_ in sheet.iter_rows() for c in row_ if isinstance(c.value, str)}
    assert names[0] in listed and names[1] in listed and names[2] not in listed


def test_audit_verify_names_a_changed_and_a_deleted_row(setup: Servers) -> None:
    servers = setup
    for i in range(3):
        spec = NominationList("Sở Nội vụ", collectives([f"Phòng {i}"]), people("Trần Thị", 2))
        servers.append(
            build_email(sender=SNV, subject=f"Hồ sơ {i}", files=dossier(spec), date=vn(20)),
            vn(20, 9 + i),
        )
    run(servers, "poll")
    run(
        servers,
        "decide",
        "extend",
        "SNV",
        "--until",
        "27/05/2021 23:59",
        "-r",
        "Xin lùi hạn vì mất điện",
    )
    assert "Nhật ký nguyên vẹn" in run(servers, "audit", "verify")
    with session(servers) as s:
        count = len(s.exec(select(AuditEntry)).all())
        mails = {m.kind for m in s.exec(select(OutboundMail)).all()}
    # 3 messages handled, 3 replies and 1 notice sent, 1 decision.
    assert count == 8 and MailKind.DECISION in mails, count

    engine = make_engine(servers.db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET reason = 'đã sửa' WHERE seq = 3"))
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 5"))
    out = run(servers, "audit", "verify", code=1)
    assert "dòng 3: nội dung đã bị sửa" in out and "dòng 5: đã bị xóa" in out, out

    exported = Path(servers.config).parent / "nhat-ky.csv"
    run(servers, "audit", "export", str(exported))
    text_ = exported.read_text(encoding="utf-8-sig")
    assert "gia hạn nộp" in text_ and "Xin lùi hạn vì mất điện" in text_


def test_reminders_and_digests_are_in_the_trail_with_their_delivery(setup: Servers) -> None:
    servers = setup
    run(servers, "remind", "--unit", "SNV")
    run(servers, "digest")
    [reminder] = audit_rows(servers, AuditAction.REMINDER_QUEUED)
    [digest] = audit_rows(servers, AuditAction.DIGEST_QUEUED)
    assert reminder.unit_code == "SNV" and reminder.actor == "hệ thống"
    sent = {row.object_id for row in audit_rows(servers, AuditAction.MAIL_SENT)}
    assert {reminder.object_id, digest.object_id} <= sent
    assert "Nhật ký nguyên vẹn" in run(servers, "audit", "verify")


def test_an_older_mail_is_not_reprocessed_over_a_newer_submission(setup: Servers) -> None:
    servers = setup
    clerk = "vanthu.cu@tamduong.laichau.gov.vn"
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        people("Nguyễn Văn", 2),
        with_turnout=True,
    )
    servers.append(build_email(sender=clerk, subject="Hồ sơ cũ", files=dossier(spec)), vn(21))
    servers.append(build_email(sender=TAM_DUONG, subject="Hồ sơ", files=dossier(spec)), vn(22))
    run(servers, "poll")
    with session(servers) as s:
        old = s.exec(select(InboundMessage).where(InboundMessage.from_address == clerk)).one()
    refused = run(
        servers,
        "decide",
        "register",
        clerk,
        "-u",
        "H-TAMDUONG",
        "-m",
        str(old.id),
        "-r",
        "Văn thư cũ của huyện",
        code=2,
    )
    assert "trước hồ sơ hiện hành của đơn vị H-TAMDUONG" in refused, refused
    assert audit_rows(servers, AuditAction.REGISTER_SENDER) == []
    run(servers, "decide", "register", clerk, "-u", "H-TAMDUONG", "-r", "Văn thư cũ của huyện")
    assert current(servers, "H-TAMDUONG").version == 1
