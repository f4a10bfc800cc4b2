"""End to end against real servers: an email APPENDed to Dovecot, `intake poll`, the reply that
arrives over SMTP, the stored state and the mailbox folders."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import timedelta
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from domain.kinds import MessageState, Outcome
from pipeline.annotate import PROBLEMS_SHEET
from pipeline.parse import parse_message
from samples.factories import (
    PM,
    PROVINCIAL,
    XLSX,
    File,
    NominationList,
    Row,
    build_email,
    build_workbook,
    collectives,
    dossier,
    people,
)
from service.outbox import deliver_due
from storage.db import make_engine
from storage.models import InboundMessage, NomineeRecord, Submission
from tests.conftest import Servers, vn, write_config
from tests.servers import PASSWORD, SmtpServer

pytestmark = pytest.mark.integration

SNV = "vanphong.snv@laichau.gov.vn"
TAM_DUONG = "vanphong@tamduong.laichau.gov.vn"


def intake(servers: Servers, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(servers.config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def snv_submission(
    individuals: int = 3, subject: str = "Sở Nội vụ gửi hồ sơ đề nghị khen thưởng", **kwargs: object
) -> bytes:
    spec = NominationList(
        "Sở Nội vụ", collectives(["Phòng Xây dựng chính quyền"]), people("Trần Thị", individuals)
    )
    return build_email(
        sender=SNV,
        sender_name="Sở Nội vụ",
        subject=subject,
        files=dossier(spec),
        date=vn(20),
        **kwargs,  # type: ignore[arg-type]
    )


def body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def submissions(servers: Servers) -> list[Submission]:
    with Session(make_engine(servers.db_url)) as session:
        return list(session.exec(select(Submission).order_by(Submission.id)))  # type: ignore[arg-type]


def ledger(servers: Servers) -> list[InboundMessage]:
    with Session(make_engine(servers.db_url)) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)))  # type: ignore[arg-type]


def test_a_valid_submission_is_stored_acknowledged_and_filed(servers: Servers) -> None:
    original = snv_submission()
    servers.append(original, vn(20, 9))
    output = intake(servers, "poll")
    assert "Đã lấy 1 thư mới" in output and "Đã gửi 1 thư trả lời" in output

    [reply] = servers.replies(SNV)
    sent = parse_message(original)
    assert reply["Subject"] == "[Đã tiếp nhận] Re: Sở Nội vụ gửi hồ sơ đề nghị khen thưởng"
    assert "02 bộ bản chính" in body(reply)  # the paper originals, with the number of sets
    assert reply["In-Reply-To"] == sent.message_id
    assert sent.message_id in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied"
    text = body(reply)
    assert "đã TIẾP NHẬN hồ sơ" in text
    assert "Bằng khen của Chủ tịch UBND tỉnh, cá nhân: 3 (chỉ tiêu phân bổ: 8)" in text
    assert "Tờ trình: Tờ trình đề nghị khen thưởng.pdf" in text
    assert reply.get_body(("html",)) is not None
    assert list(reply.iter_attachments()) == []  # nothing to mark, nothing attached

    [stored] = submissions(servers)
    assert (stored.unit_code, stored.status, stored.version, stored.individuals) == (
        "SNV",
        "accepted",
        1,
        3,
    )
    assert stored.received_at == vn(20, 9)
    # What the status command and the desk show of the message, in the officers' words.
    assert [m.outcome_detail for m in ledger(servers)] == ["SNV, lần gửi thứ 1: đã tiếp nhận"]
    folders = servers.dovecot.folder_counts(servers.user)
    assert folders["INBOX"] == 0 and folders["Processed"] == 1
    assert all(b"\\Seen" not in flags for flags in servers.dovecot.flags(servers.user, "Processed"))


def test_over_quota_gets_an_error_report_and_goes_to_rejected(servers: Servers) -> None:
    servers.append(snv_submission(individuals=10), vn(21))
    intake(servers, "poll")
    [reply] = servers.replies(SNV)
    text = body(reply)
    assert "CHƯA ĐƯỢC TIẾP NHẬN" in text
    assert (
        "Đơn vị đề nghị 10 cá nhân tặng Bằng khen của Chủ tịch UBND tỉnh, vượt chỉ tiêu được phân bổ là 8."
        in text
    )
    assert "Bớt 2 cá nhân" in text
    # The outcome is in the subject, as a phone's inbox shows it; the closing names a person.
    assert (
        str(reply["Subject"])
        == "[Chưa tiếp nhận – 1 lỗi] Re: Sở Nội vụ gửi hồ sơ đề nghị khen thưởng"
    )
    assert "Trân trọng./." in text and "Người liên hệ: " in text
    assert submissions(servers)[0].status == "rejected"
    assert servers.dovecot.folder_counts(servers.user)["Rejected"] == 1


def test_an_error_report_carries_the_list_with_the_faulty_cell_marked(servers: Servers) -> None:
    rows = [*people("Trần Thị", 2), Row("Lò Văn Tám", award="Giấy khen của huyện")]
    spec = NominationList("Sở Nội vụ", collectives(["Phòng Xây dựng chính quyền"]), rows)
    servers.append(
        build_email(sender=SNV, sender_name="Sở Nội vụ", subject="Hồ sơ", files=dossier(spec)),
        vn(21),
    )
    intake(servers, "poll")
    [reply] = servers.replies(SNV)
    assert "BẢN DANH SÁCH ĐÃ ĐÁNH DẤU" in body(reply)
    [copy] = list(reply.iter_attachments())
    assert copy.get_filename() == "Danh sách đề nghị khen thưởng (đánh dấu lỗi).xlsx"
    book = load_workbook(BytesIO(copy.get_payload(decode=True)))
    problems = book[PROBLEMS_SHEET]
    [ref] = [problems.cell(r, 4).value for r in range(5, problems.max_row + 1)]
    award_cell = book.worksheets[1][str(ref)]
    assert award_cell.value == "Giấy khen của huyện"
    assert award_cell.comment is not None and "Giấy khen của huyện" in award_cell.comment.text


def test_a_message_over_the_size_limit_is_kept_answered_and_leaves_the_dossier_standing(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_MAILBOX__MAX_MESSAGE_BYTES", str(300_000))
    servers.append(snv_submission(), vn(20))
    spec = NominationList("Sở Nội vụ", collectives(["Phòng Xây dựng chính quyền"]), people("Lò", 2))
    photos = File("Ảnh chụp tờ trình.jpg", b"\xff\xd8\xff\xe0" + os.urandom(400_000), "image/jpeg")
    servers.append(
        build_email(
            sender=SNV, sender_name="Sở Nội vụ", subject="Bổ sung", files=[*dossier(spec), photos]
        ),
        vn(21),
    )
    output = intake(servers, "poll")
    assert "1 thư quá lớn" in output
    first, second = servers.replies(SNV)
    assert "đã TIẾP NHẬN" in body(first)
    text = body(second)
    assert "vượt giới hạn 0,3 MB" in text and "CHƯA ĐỌC" in text
    assert "hồ sơ đó vẫn giữ nguyên" in text
    [accepted] = submissions(servers)  # the big message made no submission
    assert (accepted.status, accepted.individuals) == ("accepted", 3)
    big = ledger(servers)[1]
    assert (big.outcome, big.state) == (Outcome.TOO_LARGE, MessageState.DONE)
    assert servers.dovecot.folder_counts(servers.user)["Rejected"] == 1
    status = json.loads(intake(servers, "status", "--json"))
    assert [m["from"] for m in status["to_read"]] == [SNV]


def test_the_servers_clock_decides_lateness_not_the_senders(servers: Servers) -> None:
    # The Date header says the 20th; the mail server received it on the 26th.
    servers.append(snv_submission(), vn(26, 8, 30))
    intake(servers, "poll")
    [reply] = servers.replies(SNV)
    assert "ĐÁNH DẤU NỘP MUỘN" in body(reply)
    assert "08:30 ngày 26/05/2021" in body(reply)
    [stored] = submissions(servers)
    assert stored.status == "accepted_late" and stored.late


def test_unknown_senders_are_kept_and_only_answered_when_they_send_a_list(servers: Servers) -> None:
    spec = NominationList("UBND xã Bản Bo", individuals=people("Lò Thị", 2))
    with_list = build_email(
        sender="xabanbo@gmail.com",
        subject="danh sách",
        files=[File("ds.xlsx", build_workbook(spec), XLSX)],
    )
    chatter = build_email(sender="ai.do@gmail.com", subject="Hỏi thăm")
    servers.append(with_list, vn(21))
    servers.append(chatter, vn(21))
    intake(servers, "poll")
    [reply] = servers.replies()
    assert reply["To"].addresses[0].addr_spec == "xabanbo@gmail.com"
    assert "chưa được đăng ký" in body(reply)
    assert submissions(servers) == []
    assert [m.outcome for m in ledger(servers)] == [Outcome.UNKNOWN_SENDER, Outcome.UNKNOWN_SENDER]
    status = json.loads(intake(servers, "status", "--json"))
    assert [m["from"] for m in status["to_read"]] == [
        "xabanbo@gmail.com",
        "ai.do@gmail.com",
    ]
    assert servers.dovecot.folder_counts(servers.user)["Rejected"] == 2


def test_a_resubmission_supersedes_the_first_and_says_so(servers: Servers) -> None:
    servers.append(snv_submission(individuals=10), vn(21))
    intake(servers, "poll")
    servers.append(snv_submission(individuals=4, subject="Gửi lại danh sách (bản sửa)"), vn(22))
    intake(servers, "poll")
    first, second = submissions(servers)
    assert (first.status, first.is_current) == ("rejected", False)
    assert (second.status, second.is_current, second.version, second.supersedes_id) == (
        "accepted",
        True,
        2,
        first.id,
    )
    replies = servers.replies(SNV)
    assert len(replies) == 2
    assert "thay thế hồ sơ lần 1" in body(replies[1])
    status = json.loads(intake(servers, "status", "--json"))
    snv = next(u for u in status["units"] if u["code"] == "SNV")
    assert snv["submissions"] == 2
    assert snv["current"]["version"] == 2
    assert snv["current"]["proposed"]["provincial"] == {"collective": 1, "individual": 4}


def test_the_same_message_twice_makes_one_submission_and_one_reply(servers: Servers) -> None:
    original = snv_submission()
    servers.append(original, vn(20))
    servers.append(original, vn(20))  # delivered twice: same bytes under another UID
    intake(servers, "poll")
    intake(servers, "poll")  # and fetched again: nothing new
    assert len(submissions(servers)) == 1
    assert len(servers.replies()) == 1
    outcomes = [m.outcome for m in ledger(servers)]
    assert outcomes == [Outcome.SUBMISSION, Outcome.DUPLICATE]
    assert servers.dovecot.folder_counts(servers.user)["INBOX"] == 0


def test_an_out_of_office_reply_gets_no_answer(servers: Servers) -> None:
    auto = build_email(
        sender=TAM_DUONG,
        subject="Trả lời tự động: vắng mặt",
        headers={"Auto-Submitted": "auto-replied"},
    )
    servers.append(auto, vn(21))
    intake(servers, "poll")
    assert servers.replies() == []
    [message] = ledger(servers)
    assert message.outcome == Outcome.AUTOMATIC and message.state == MessageState.DONE


def test_a_unit_answering_our_reply_is_left_for_a_person(servers: Servers) -> None:
    servers.append(snv_submission(), vn(20))
    intake(servers, "poll")
    [ack] = servers.replies(SNV)
    thanks = build_email(
        sender=SNV,
        subject="Re: " + str(ack["Subject"]),
        body="Cảm ơn Sở.",
        headers={"In-Reply-To": str(ack["Message-ID"])},
    )
    servers.append(thanks, vn(20, 11))
    intake(servers, "poll")
    assert len(servers.replies()) == 1
    assert ledger(servers)[-1].outcome == Outcome.CORRESPONDENCE


def test_pm_nominee_with_report_and_a_locality_list(servers: Servers) -> None:
    spec = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang", "UBND xã Hồ Thầu"], turnout="99,6%"),
        people("Nguyễn Văn", 4) + [Row("Hoàng Thị Hòa", award=f"{PROVINCIAL}; đề nghị {PM}")],
        with_turnout=True,
    )
    raw = build_email(
        sender=TAM_DUONG,
        subject="Hồ sơ khen thưởng huyện Tam Đường",
        files=dossier(spec, reports_for=["Hoàng Thị Hòa"]),
    )
    servers.append(raw, vn(22))
    intake(servers, "poll")
    [reply] = servers.replies(TAM_DUONG)
    text = body(reply)
    assert "đã TIẾP NHẬN" in text, text
    assert "Bằng khen của Thủ tướng Chính phủ, cá nhân: 1 (chỉ tiêu toàn tỉnh: 3)" in text


def test_flag_mode_leaves_mail_in_place_with_a_keyword(servers: Servers) -> None:
    servers.config.write_text(
        servers.config.read_text().replace('post_action = "move"', 'post_action = "flag"')
    )
    servers.append(snv_submission(), vn(20))
    intake(servers, "poll")
    assert servers.dovecot.folder_counts(servers.user)["INBOX"] == 1
    [flags] = servers.dovecot.flags(servers.user)
    assert b"$IntakeProcessed" in flags and b"\\Seen" not in flags
    intake(servers, "poll")
    assert len(servers.replies()) == 1


def test_a_reply_that_cannot_be_sent_now_is_sent_later_once(servers: Servers) -> None:
    from config.settings import load_settings
    from pipeline.send import SmtpTransport
    from service.outbox import deliver_due

    good = servers.config.read_text()
    servers.config.write_text(
        good.replace(f"port = {servers.smtp.port}", "port = 1")
    )  # nothing listens
    servers.append(snv_submission(), vn(20))
    output = intake(servers, "poll")
    assert "1 thư chờ gửi lại" in output
    assert servers.replies() == []
    settings = load_settings(servers.config)
    engine = make_engine(servers.db_url)
    assert settings.outgoing.smtp is not None
    working = settings.outgoing.smtp.model_copy(update={"port": servers.smtp.port})
    later = submissions(servers)[0].created_at + timedelta(hours=1)
    report = deliver_due(
        engine, SmtpTransport(working, None), "pxdcq.sonv@laichau.gov.vn", 5, now=later
    )
    assert report.sent == 1
    again = deliver_due(
        engine, SmtpTransport(working, None), "pxdcq.sonv@laichau.gov.vn", 5, now=later
    )
    assert again.sent == 0
    assert len(servers.replies(SNV)) == 1


def test_health_checks_the_database_and_the_mailbox(servers: Servers) -> None:
    assert "Ổn" in intake(servers, "health")
    servers.config.write_text(
        servers.config.read_text().replace(f"port = {servers.dovecot.port}", "port = 1")
    )
    result = CliRunner().invoke(app, ["--config", str(servers.config), "health"])
    assert result.exit_code == 1
    assert "Không mở được hộp thư" in result.output


def test_a_message_that_keeps_failing_is_quarantined_then_replayed(servers: Servers) -> None:
    good = servers.config.read_text()
    blocker = servers.config.parent / "not-a-folder"
    blocker.write_text("the file store cannot be created under a file")
    servers.config.write_text(
        good.replace(str(servers.config.parent / "files"), str(blocker / "files"))
    )
    servers.append(snv_submission(), vn(20))
    servers.append(build_email(sender="ai.do@gmail.com", subject="Hỏi thăm"), vn(20))
    for _ in range(3):
        intake(servers, "poll")
    first, second = ledger(servers)
    assert (first.state, first.attempts) == (MessageState.QUARANTINED, 3)
    assert "NotADirectoryError" in first.last_error
    assert second.state == MessageState.DONE  # the bad message did not block the next one
    assert servers.replies(SNV) == []
    status = json.loads(intake(servers, "status", "--json"))
    assert [m["id"] for m in status["not_processed"]] == [first.id]
    assert "chưa xử lý được" in intake(servers, "status")

    servers.config.write_text(good)
    assert "sẽ được xử lý lại" in intake(servers, "reprocess", str(first.id))
    intake(servers, "poll")
    assert ledger(servers)[0].state == MessageState.DONE
    assert len(servers.replies(SNV)) == 1
    assert servers.dovecot.folder_counts(servers.user)["INBOX"] == 0


def test_a_message_that_fails_still_names_its_sender_when_the_from_header_is_odd(
    servers: Servers,
) -> None:
    """What the ledger knows from the fetch alone (all that is left when processing fails) is
    read as processing reads it: a display name carrying CR LF and a colon still gives the
    sender and the subject, for the person looking at what failed."""
    good = servers.config.read_text()
    blocker = servers.config.parent / "not-a-folder"
    blocker.write_text("the file store cannot be created under a file")
    servers.config.write_text(
        good.replace(str(servers.config.parent / "files"), str(blocker / "files"))
    )
    odd = re.sub(
        rb"^From: .*$",
        b"From: =?utf-8?q?V=C4=83n_th=C6=B0=0D=0ABcc=3A_x?= <" + SNV.encode() + b">",
        snv_submission(),
        count=1,
        flags=re.MULTILINE,
    )
    servers.append(odd, vn(20))
    intake(servers, "poll")
    [failed] = ledger(servers)
    assert failed.state == MessageState.FAILED
    assert (failed.from_address, failed.subject) == (SNV, "Sở Nội vụ gửi hồ sơ đề nghị khen thưởng")


def test_a_naive_auto_responder_gets_one_answer_not_a_loop(
    servers: Servers, tmp_path: Path
) -> None:
    """SNV's mail system answers every message with an out-of-office note that says nothing of
    being automatic: the loop stops after one answer from us."""

    def out_of_office(data: bytes) -> None:
        received = parse_message(data)
        echo = build_email(
            sender=SNV,
            subject=f"RE: {received.subject}",
            body="Tôi đang đi công tác, sẽ trả lời sau.",
        )
        servers.dovecot.append(servers.user, echo, vn(20, 12))

    with SmtpServer(on_message=out_of_office) as responder:
        config = write_config(
            tmp_path,
            imap_port=servers.dovecot.port,
            user=servers.user,
            smtp_port=responder.port,
            db_url=servers.db_url,
        )
        runner = CliRunner()
        servers.append(snv_submission(), vn(20))
        for _ in range(4):
            result = runner.invoke(app, ["--config", str(config), "poll"])
            assert result.exit_code == 0, result.output
        to_snv = responder.received(SNV)
    kinds = [body(m).splitlines()[2] for m in to_snv]
    assert len(to_snv) == 2, kinds  # the acknowledgement, then one "nothing attached" answer
    assert "đã TIẾP NHẬN" in body(to_snv[0])
    assert "Thư không kèm danh sách" in body(to_snv[1])
    outcomes = [m.outcome for m in ledger(servers)]
    assert outcomes[-1] == Outcome.CORRESPONDENCE


def test_smtp_refusals_temporary_are_retried_permanent_are_recorded(servers: Servers) -> None:
    from config.campaign import load_campaign
    from config.settings import load_settings
    from service.runtime import App
    from storage.db import open_database

    settings = load_settings(servers.config)
    application = App(
        settings, load_campaign(settings.campaign_file), open_database(servers.db_url)
    )
    servers.smtp.inbox.refusals[:] = [
        "451 4.3.0 try again later"
    ] * 3  # every quick retry of one run
    servers.append(snv_submission(), vn(20))
    assert "1 thư chờ gửi lại" in intake(servers, "poll")
    assert servers.replies() == []
    later = submissions(servers)[0].created_at + timedelta(hours=1)
    report = deliver_due(
        application.engine, application.transport(), "pxdcq.sonv@laichau.gov.vn", 5, now=later
    )
    assert report.sent == 1 and len(servers.replies(SNV)) == 1

    servers.smtp.inbox.refusals[:] = ["550 5.1.1 no such mailbox"]
    servers.append(snv_submission(subject="Gửi lại"), vn(21))
    output = intake(servers, "poll")
    assert "1 thư không gửi được" in output
    status = intake(servers, "status")
    assert "550" in status and "intake resend" in status
    failed = json.loads(intake(servers, "status", "--json"))["mail_problems"]
    assert [m["state"] for m in failed] == ["failed"]
    assert "đã gửi lại" in intake(servers, "resend", str(failed[0]["id"])).lower()
    assert len(servers.replies(SNV)) == 2


def test_a_rebuilt_mailbox_processes_nothing_again_and_skips_nothing_new(servers: Servers) -> None:
    servers.config.write_text(
        servers.config.read_text().replace('post_action = "move"', 'post_action = "flag"')
    )
    servers.append(snv_submission(), vn(20))
    intake(servers, "poll")
    with servers.dovecot.client(servers.user) as client:
        before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    time.sleep(1.1)  # Dovecot derives a new UIDVALIDITY from the clock
    maildir = servers.dovecot.root / "mail" / servers.user
    for index in maildir.glob("dovecot*"):
        index.unlink()  # the server forgets its UIDs: the mailbox is "rebuilt"
    servers.append(snv_submission(subject="Hồ sơ bổ sung", individuals=2), vn(21))
    intake(servers, "poll")
    with servers.dovecot.client(servers.user) as client:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"] != before
    outcomes = [m.outcome for m in ledger(servers)]
    assert outcomes.count(Outcome.SUBMISSION) == 2  # the old one once, the new one once
    assert outcomes.count(Outcome.DUPLICATE) == 1  # the old one seen again under its new UID
    assert len(servers.replies(SNV)) == 2


def test_a_forged_unit_address_is_kept_but_never_answered(servers: Servers) -> None:
    verdict = "mx.laichau.gov.vn; spf=softfail smtp.mailfrom=laichau.gov.vn; dkim=fail header.d=laichau.gov.vn; dmarc=fail"
    servers.append(snv_submission(headers={"Authentication-Results": verdict}), vn(20))
    genuine = "mx.laichau.gov.vn; spf=pass; dkim=pass header.d=laichau.gov.vn; dmarc=pass"
    servers.append(
        snv_submission(subject="Bản thật", headers={"Authentication-Results": genuine}), vn(20, 11)
    )
    intake(servers, "poll")
    forged, real = ledger(servers)
    assert forged.outcome == Outcome.SUSPICIOUS and "DKIM và DMARC" in forged.outcome_detail
    assert real.outcome == Outcome.SUBMISSION
    [reply] = servers.replies(SNV)  # only the genuine one is answered
    assert "Bản thật" in str(reply["Subject"])
    assert len(submissions(servers)) == 1
    listed = json.loads(intake(servers, "status", "--json"))["to_read"]
    assert [m["id"] for m in listed] == [forged.id]


def test_an_unknown_sender_over_the_daily_cap_is_recorded_as_capped_not_as_listless(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_OUTGOING__MAX_REPLIES_PER_SENDER_PER_DAY", "1")
    spec = NominationList("UBND xã Bản Bo", individuals=people("Lò Thị", 2))
    for n in range(2):
        servers.append(
            build_email(
                sender="xabanbo@gmail.com",
                subject=f"danh sách {n}",
                files=[File("ds.xlsx", build_workbook(spec), XLSX)],
            ),
            vn(21, 9 + n),
        )
    intake(servers, "poll")
    assert len(servers.replies("xabanbo@gmail.com")) == 1
    answered, capped = ledger(servers)
    assert answered.outcome_detail == "đã gửi hướng dẫn nộp hồ sơ"
    assert capped.outcome == Outcome.UNKNOWN_SENDER and capped.decided_by == "unknown_sender"
    assert "đã đủ số thư trả lời trong ngày" in capped.outcome_detail
    assert "không kèm bảng tính" not in capped.outcome_detail


def test_mail_that_needs_a_person_reaches_the_departments_digest(servers: Servers) -> None:
    """A unit answering our reply without a dossier is "cần người đọc" for `status`; the digest
    the Department reads lists the same mail."""
    servers.append(snv_submission(), vn(20, 9))
    intake(servers, "poll")
    [ack] = servers.replies(SNV)
    answer = build_email(
        sender=SNV,
        subject=f"Re: {ack['Subject']}",
        body="Xin hỏi bao giờ có kết quả?",
        headers={"In-Reply-To": ack["Message-ID"], "References": ack["Message-ID"]},
    )
    servers.append(answer, vn(20, 10))
    intake(servers, "poll")
    correspondence = ledger(servers)[-1]
    assert correspondence.outcome == Outcome.CORRESPONDENCE
    status = json.loads(intake(servers, "status", "--json"))
    assert [m["id"] for m in status["to_read"]] == [correspondence.id]
    digest = intake(servers, "digest", "--preview")
    assert f"#{correspondence.id} {SNV}" in digest
    assert "đơn vị trả lời thư của hệ thống" in digest


def test_the_acknowledgement_reads_every_nominee_back_with_sheet_and_row(
    servers: Servers,
) -> None:
    """A clerk holds the reply against the unit's own list: every nominee recorded is in it,
    numbered, by award and kind, with sheet and row; one missing would show at once."""
    names = ["Tòng Công Tùng", "Lò Văn Bình", "Tổng Thị Cộng"]
    spec = NominationList(
        "Sở Nội vụ",
        collectives(["Phòng Xây dựng chính quyền"]),
        [person for name in names for person in people(name, 1)],
    )
    servers.append(
        build_email(sender=SNV, subject="Hồ sơ khen thưởng", files=dossier(spec), date=vn(20)),
        vn(20),
    )
    intake(servers, "poll")
    [ack] = servers.replies(SNV)
    text = body(ack)
    assert "đã TIẾP NHẬN" in text
    listed = text.split("DANH SÁCH ĐÃ GHI NHẬN")[1].split("TÀI LIỆU NHẬN ĐƯỢC")[0]
    with Session(make_engine(servers.db_url)) as session:
        recorded = session.exec(select(NomineeRecord)).all()
    assert len(recorded) == 4
    for nominee in recorded:
        assert f"{nominee.name}" in listed
        assert f"dòng {nominee.source_row}" in listed
    assert "(3):" in listed and "(1):" in listed  # three individuals, one collective
    html = ack.get_body(("html",))
    assert html is not None and "Danh sách đã ghi nhận" in str(html.get_content())


def test_the_operator_can_follow_a_poll_line_by_line_without_nominee_data(
    servers: Servers,
) -> None:
    import subprocess
    import sys

    servers.append(snv_submission(individuals=2), vn(20))
    servers.append(build_email(sender="ai.do@gmail.com", subject="Hỏi thăm"), vn(20))
    command = [
        str(Path(sys.executable).parent / "intake"),
        "--log-format",
        "json",
        "--config",
        str(servers.config),
        "poll",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "INTAKE_MAILBOX__IMAP__PASSWORD": PASSWORD},
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    messages = [entry["message"] for entry in lines if entry["message"].startswith("message ")]
    assert len(messages) == 2
    assert "unit=SNV outcome=submission" in messages[0] and "reply=" in messages[0]
    assert "outcome=unknown_sender" in messages[1]
    assert any(entry["message"].startswith("fetched batch: 2 new") for entry in lines)
    assert all(
        re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", e["time"]) for e in lines
    )
    assert not any(e["logger"].startswith(("imaplib", "mailparser", "alembic")) for e in lines)
    assert "Trần Thị" not in done.stderr  # no nominee's name in any log line
