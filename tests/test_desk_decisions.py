"""Every decision through the desk in Debian's Chromium, on SQLite and PostgreSQL, over Dovecot
and a real SMTP server: the page says what happened, the state is stored, the unit receives
exactly one mail where it is told, and the audit row names the officer. Screenshots go to docs/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlmodel import Session, select

from cli import load_app_from
from domain.kinds import AuditAction, DeskRole, MailState, MessageState, SubmissionStatus
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
from service.context import PollReport
from service.ledger import fetch_into_ledger, with_mailbox
from service.runtime import App
from storage import inbound, outbox, users
from storage.db import claiming_session
from storage.models import AuditEntry, InboundMessage, OutboundMail, Submission
from tests.conftest import Servers, move_to_postgres, vn
from tests.test_decisions import STP, decision_mails, snv_without_minutes
from tests.test_desk_browser import DOCS, browser, page_says, serving  # noqa: F401  (fixture)
from tests.test_faults import poll
from tests.test_intake_imap import SNV, TAM_DUONG, body

pytestmark = pytest.mark.integration
PASSWORD = "mật-khẩu-cán-bộ-2021"
CLERK = "vanthu@sinho.laichau.gov.vn"  # Sìn Hồ's new clerk, not in the campaign file
PM_NAMES = ["Hoàng Thị Hòa", "Lò Văn Minh", "Tòng Văn Sơn", "Vàng Thị Mai"]


@dataclass
class Desk:
    url: str
    app: App
    servers: Servers
    quarantined: int
    refused_mail: int

    def deliver(self) -> None:
        self.app.deliver()

    def status(self, unit: str) -> SubmissionStatus:
        with Session(self.app.engine) as session:
            current = session.exec(
                select(Submission).where(Submission.unit_code == unit, Submission.is_current)
            ).one()
            return SubmissionStatus(current.status)

    def audit(self, action: AuditAction) -> list[AuditEntry]:
        with Session(self.app.engine) as session:
            return list(session.exec(select(AuditEntry).where(AuditEntry.action == action.value)))


def _campaign_mail(servers: Servers) -> None:
    servers.append(snv_without_minutes(), vn(20, 9))
    both = f"{PROVINCIAL}; đề nghị {PM}"
    tam_duong = NominationList(
        "UBND huyện Tam Đường",
        collectives(["UBND xã Bản Giang"], turnout="99,6%"),
        [Row(n, award=both) for n in PM_NAMES[:3]],
        with_turnout=True,
    )
    servers.append(
        build_email(
            sender=TAM_DUONG, subject="Hồ sơ", files=dossier(tam_duong, reports_for=PM_NAMES[:3])
        ),
        vn(21),
    )
    stp = NominationList(
        "Sở Tư pháp",
        collectives(["Phòng Hành chính tư pháp"]),
        [*people("Lê Văn", 2), Row(PM_NAMES[3], award=both)],
    )
    servers.append(
        build_email(sender=STP, subject="Hồ sơ STP", files=dossier(stp, reports_for=PM_NAMES[3:])),
        vn(21, 11),
    )
    sin_ho = NominationList(
        "UBND huyện Sìn Hồ",
        collectives(["UBND xã Tả Phìn"], turnout="99,1%"),
        people("Giàng A", 2),
        with_turnout=True,
    )
    servers.append(
        build_email(sender=CLERK, subject="Hồ sơ khen thưởng huyện Sìn Hồ", files=dossier(sin_ho)),
        vn(22),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> Iterator[Desk]:
    config = servers.config
    if request.param == "postgresql":
        config = move_to_postgres(
            servers, tmp_path / "pg", request.getfixturevalue("fresh_postgres")
        )
    _campaign_mail(servers)
    code, output = poll(config)
    assert code == 0, output
    application = load_app_from(config)
    with Session(application.engine) as session:
        users.add(session, "canbo", PASSWORD, DeskRole.OFFICER)
        stp_ack = session.exec(select(OutboundMail).where(OutboundMail.recipient == STP)).one()
        # The server refused it for good (as a full mailbox does): for "gửi lại".
        outbox.mark_refused(stp_ack, "550 5.2.2 mailbox full")
        session.add(stp_ack)
        session.commit()
        refused = stp_ack.id or 0
    # A message the program failed on three times: stored, then each attempt recorded.
    servers.append(build_email(sender=SNV, subject="Bổ sung", files=[]), vn(23))
    ctx = application.context
    with_mailbox(
        ctx,
        application.mailbox(),
        lambda mailbox: fetch_into_ledger(application.engine, ctx, mailbox, PollReport()),
    )
    with Session(application.engine) as session:
        stuck = session.exec(
            select(InboundMessage).where(InboundMessage.subject == "Bổ sung")
        ).one()
    for _ in range(application.settings.schedule.max_processing_attempts):
        with claiming_session(application.engine) as session:
            inbound.record_failure(
                session,
                stuck.id or 0,
                "ValueError: test",
                application.settings.schedule.max_processing_attempts,
            )
            session.commit()
    with serving(application) as url:
        yield Desk(url, application, servers, stuck.id or 0, refused)


def submit(chrome: webdriver.Chrome, form_id: str, **fields: str) -> None:
    form = chrome.find_element(By.ID, form_id)
    for name, value in fields.items():
        element = form.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_every_decision_from_the_desk(desk: Desk, browser: webdriver.Chrome) -> None:  # noqa: F811
    chrome, url, servers = browser, desk.url, desk.servers
    chrome.get(f"{url}/")
    chrome.find_element(By.NAME, "username").send_keys("canbo")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form.login button").click()
    page_says(chrome, "Tổng quan")

    # Accept SNV's dossier despite the missing minutes.
    assert desk.status("SNV") is SubmissionStatus.REJECTED
    chrome.get(f"{url}/don-vi/SNV")
    for box in chrome.find_elements(By.CSS_SELECTOR, "#tiep-nhan input[name=waive]"):
        box.click()
    submit(chrome, "tiep-nhan", reason="Biên bản họp gửi bản giấy qua bưu điện")
    page_says(chrome, "Đã tiếp nhận hồ sơ")
    DOCS.mkdir(exist_ok=True)
    chrome.save_screenshot(str(DOCS / "desk-decision.png"))
    desk.deliver()
    assert desk.status("SNV") is SubmissionStatus.ACCEPTED
    assert [s[:15] for s in decision_mails(servers, SNV)] == ["[Đã tiếp nhận] "]
    [accepted] = desk.audit(AuditAction.ACCEPT_DESPITE_FINDINGS)
    assert accepted.actor == "canbo" and accepted.reason == "Biên bản họp gửi bản giấy qua bưu điện"

    # …then not accepted after all.
    submit(chrome, "khong-tiep-nhan", reason="Tờ trình chưa có chữ ký")
    page_says(chrome, "Đã chuyển hồ sơ sang chưa tiếp nhận")
    desk.deliver()
    assert desk.status("SNV") is SubmissionStatus.REJECTED
    assert len(decision_mails(servers, SNV)) == 2
    assert "Tờ trình chưa có chữ ký" in chrome.find_element(By.CSS_SELECTOR, ".decision").text

    # One more day for STP.
    chrome.get(f"{url}/don-vi/STP")
    submit(chrome, "gia-han", until="27/05/2021 17:00", reason="Công văn xin lùi hạn số 15/STP")
    page_says(chrome, "Đã gia hạn đến 27/05/2021 17:00")
    page_says(chrome, "17:00 ngày 27/05/2021")
    desk.deliver()
    [extended] = decision_mails(servers, STP)
    assert "27/05/2021" in extended
    assert desk.audit(AuditAction.EXTEND_DEADLINE)[0].actor == "canbo"

    # Sìn Hồ's new clerk: registered from "Cần xử lý", the mail handled again as Sìn Hồ's.
    chrome.get(f"{url}/can-xu-ly")
    message_id = chrome.find_element(
        By.CSS_SELECTOR, "form[id^=dang-ky-] input[name=message]"
    ).get_attribute("value")
    submit(
        chrome, f"dang-ky-{message_id}", unit="H-SINHO", reason="Văn thư mới, đã gọi điện xác nhận"
    )
    page_says(chrome, f"thư số {message_id} đã được xử lý lại")
    desk.deliver()
    assert desk.status("H-SINHO") is SubmissionStatus.ACCEPTED
    assert sum("TIẾP NHẬN" in body(m) for m in servers.replies(CLERK)) == 1

    # The quarantined message back in the queue, the refused reply sent again.
    submit(chrome, f"xu-ly-lai-{desk.quarantined}", reason="Lỗi đã được sửa trong bản 1.4")
    page_says(chrome, f"Thư số {desk.quarantined} sẽ được xử lý lại")
    with Session(desk.app.engine) as session:
        assert session.get(InboundMessage, desk.quarantined).state == MessageState.RECEIVED  # type: ignore[union-attr]
    before = len(servers.replies(STP))
    submit(chrome, f"gui-lai-{desk.refused_mail}", reason="Đơn vị đã dọn hộp thư")
    page_says(chrome, f"Thư số {desk.refused_mail} đã vào hàng đợi gửi lại")
    desk.deliver()
    assert len(servers.replies(STP)) == before + 1
    with Session(desk.app.engine) as session:
        assert session.get(OutboundMail, desk.refused_mail).state == MailState.SENT  # type: ignore[union-attr]

    # The Prime Minister's individuals: four is one too many, two are kept.
    chrome.get(f"{url}/lua-chon")
    boxes = chrome.find_elements(By.CSS_SELECTOR, "input[name=pick]")
    assert len(boxes) == len(PM_NAMES)
    assert "Báo cáo thành tích - Lò Văn Minh.docx" in chrome.find_element(By.TAG_NAME, "body").text
    for box in boxes:
        box.click()
    submit(chrome, "lua-chon-pm", reason="Thành tích xuất sắc")
    page_says(chrome, "Chỉ được chọn tối đa 3 cá nhân")
    for box in chrome.find_elements(By.CSS_SELECTOR, "input[name=pick]")[:2]:
        box.click()
    submit(chrome, "lua-chon-pm", reason="Thành tích xuất sắc trong tổ chức bầu cử")
    page_says(chrome, "Đã lưu lựa chọn (2 trường hợp)")
    chrome.save_screenshot(str(DOCS / "desk-selection.png"))
    [selected] = desk.audit(AuditAction.SELECT_NOMINEES)
    assert len(json.loads(selected.details)["selected"]) == 2

    chrome.get(f"{url}/nhat-ky")
    page_says(chrome, "Chuỗi nhật ký nguyên vẹn")
    text = chrome.find_element(By.TAG_NAME, "body").text
    for label in (
        "tiếp nhận dù có lỗi",
        "không tiếp nhận",
        "gia hạn nộp",
        "đăng ký địa chỉ gửi",
        "xử lý lại thư",
        "gửi lại thư",
        "lựa chọn đề nghị",
        "đã gửi thư",
    ):
        assert label in text, label
    chrome.save_screenshot(str(DOCS / "desk-audit.png"))
