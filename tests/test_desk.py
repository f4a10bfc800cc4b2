"""The desk's routes with the real application, on SQLite and on PostgreSQL: nothing without a
login, the pages show the campaign, what a unit typed is shown as text, forms need their CSRF
token, failed logins are capped, files go out as attachments by id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from desk.app import create_app
from domain.kinds import SYSTEM_ACTOR, DeskRole, SubmissionStatus
from samples.factories import NominationList, build_email, collectives, dossier, people
from service.runtime import App
from storage import users
from storage.models import AuditEntry, Submission
from tests.conftest import Servers, move_to_postgres, vn
from tests.test_faults import poll
from tests.test_intake_imap import SNV

pytestmark = pytest.mark.integration
PASSWORD = "mật-khẩu-đủ-dài-2021"


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(
    request: pytest.FixtureRequest, servers: Servers, tmp_path: Path
) -> Iterator[tuple[TestClient, App]]:
    """The desk over a campaign with one submission in it (a nominee named like a script)."""
    from cli import load_app_from

    config = servers.config
    if request.param == "postgresql":
        config = move_to_postgres(
            servers, tmp_path / "pg", request.getfixturevalue("fresh_postgres")
        )
    spec = NominationList(
        "Sở Nội vụ",
        collectives(["Phòng Xây dựng chính quyền"]),
        people("<script>alert(1)</script> Lò Văn", 1) + people("Tòng Thị", 1),
    )
    servers.append(
        build_email(sender=SNV, subject="Hồ sơ", files=dossier(spec), date=vn(20)), vn(20)
    )
    code, output = poll(config)
    assert code == 0, output
    application = load_app_from(config)
    with Session(application.engine) as session:
        users.add(session, "canbo", PASSWORD, DeskRole.OFFICER)
        session.commit()
    with TestClient(create_app(application, "k" * 48)) as client:
        yield client, application
    if request.param == "postgresql":
        SQLModel.metadata.drop_all(application.engine)
    application.engine.dispose()


def token(client: TestClient, path: str = "/dang-nhap") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> int:
    data = {"username": "canbo", "password": password, "csrf": token(client), "next": "/"}
    status: int = client.post("/dang-nhap", data=data, follow_redirects=False).status_code
    return status


def test_every_route_refuses_a_visitor_without_a_login(desk: tuple[TestClient, App]) -> None:
    client, _ = desk
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    assert len(routes) >= 10
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods or ():
            answer = client.request(method, path, follow_redirects=False)
            if path == "/dang-nhap":
                assert answer.status_code in (200, 403, 422), (method, path)
                continue
            assert answer.status_code in (303, 401, 403, 422), (method, path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/dang-nhap")
            assert "Tòng Thị" not in answer.text and "Sở Nội vụ gửi" not in answer.text


def test_an_officer_sees_the_campaign_and_a_units_versions(desk: tuple[TestClient, App]) -> None:
    client, application = desk
    assert log_in(client) == 303
    overview = client.get("/")
    assert overview.status_code == 200
    for unit in application.campaign.units:
        assert unit.name in overview.text
    assert "đã tiếp nhận" in overview.text or "có lỗi" in overview.text
    page = client.get("/don-vi/SNV")
    assert page.status_code == 200 and "Lần 1" in page.text and "Tòng Thị" in page.text
    # What a unit typed is text, never markup.
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client.get("/don-vi/KHONG-CO").status_code == 404
    assert client.get("/can-xu-ly").status_code == 200
    assert "Bản tổng hợp nếu gửi lúc này" in client.get("/tong-hop").text
    headers = overview.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    cookie = overview.request.headers.get("cookie", "")
    assert "ban_lam_viec=" in cookie


def test_downloads_are_attachments_by_id_with_safe_names(desk: tuple[TestClient, App]) -> None:
    client, _ = desk
    log_in(client)
    page = client.get("/don-vi/SNV").text
    paper = re.search(r'href="(/tep/\d+)"', page)
    original = re.search(r'href="(/thu/\d+\.eml)"', page)
    assert paper and original
    for path in (
        paper.group(1),
        original.group(1),
        "/tong-hop/bang-tong-hop.xlsx",
        "/tong-hop/du-thao-to-trinh.docx",
    ):
        answer = client.get(path)
        assert answer.status_code == 200
        disposition = answer.headers["content-disposition"]
        assert disposition.startswith("attachment;") and "/" not in disposition.split("filename")[1]
    eml = client.get(original.group(1))
    assert b"Subject:" in eml.content and eml.headers["content-type"].startswith("message/rfc822")
    assert client.get("/tep/999999").status_code == 404


def test_a_form_without_its_token_is_refused_and_logout_ends_the_session(
    desk: tuple[TestClient, App],
) -> None:
    client, _ = desk
    forged = client.post(
        "/dang-nhap", data={"username": "canbo", "password": PASSWORD, "csrf": "forged"}
    )
    assert forged.status_code == 403
    assert log_in(client) == 303
    assert client.post("/dang-xuat", data={"csrf": "forged"}).status_code == 403
    out = client.post("/dang-xuat", data={"csrf": token(client, "/")}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused_and_repeated_failures_are_capped(
    desk: tuple[TestClient, App],
) -> None:
    client, _ = desk
    statuses = [log_in(client, "sai mật khẩu") for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert log_in(client) == 429  # even the right one, until the window passes


def test_after_login_the_browser_goes_only_to_a_page_of_this_site(
    desk: tuple[TestClient, App],
) -> None:
    client, _ = desk
    for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        data = {"username": "canbo", "password": PASSWORD, "csrf": token(client), "next": elsewhere}
        answer = client.post("/dang-nhap", data=data, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_viewer_cannot_decide_and_no_decision_passes_without_its_token(
    desk: tuple[TestClient, App],
) -> None:
    client, application = desk
    with Session(application.engine) as session:
        users.add(session, "xem", PASSWORD, DeskRole.VIEWER)
        submission_id = session.exec(select(Submission)).one().id
        session.commit()
    decisions = {
        f"/ho-so/{submission_id}/khong-tiep-nhan": {"unit": "SNV", "reason": "Tờ trình sai mẫu"},
        "/don-vi/SNV/gia-han": {"until": "28/05/2021 17:00", "reason": "Công văn xin lùi hạn"},
        "/dia-chi": {"unit": "SNV", "address": "moi@snv.vn", "reason": "Văn thư mới"},
        "/lua-chon": {"award": "pm", "reason": "Thành tích xuất sắc"},
    }
    data = {"username": "xem", "password": PASSWORD, "csrf": token(client), "next": "/"}
    assert client.post("/dang-nhap", data=data, follow_redirects=False).status_code == 303
    page = client.get("/don-vi/SNV").text
    assert "Không tiếp nhận" not in page and "Gia hạn nộp" not in page  # no forms for a viewer
    for path, fields in decisions.items():
        answer = client.post(
            path, data={**fields, "csrf": token(client, "/")}, follow_redirects=False
        )
        assert answer.status_code == 403, path
    client.post("/dang-xuat", data={"csrf": token(client, "/")})
    assert log_in(client) == 303  # an officer, but the form lost its token
    for path, fields in decisions.items():
        answer = client.post(path, data={**fields, "csrf": "forged"}, follow_redirects=False)
        assert answer.status_code == 403, path
    with Session(application.engine) as session:
        assert session.get(Submission, submission_id).status == SubmissionStatus.ACCEPTED  # type: ignore[union-attr]
        assert session.exec(select(AuditEntry).where(AuditEntry.actor != SYSTEM_ACTOR)).all() == []
    # With its token the officer's decision goes through, and says so.
    fields = decisions[f"/ho-so/{submission_id}/khong-tiep-nhan"]
    answer = client.post(
        f"/ho-so/{submission_id}/khong-tiep-nhan", data={**fields, "csrf": token(client, "/")}
    )
    assert answer.status_code == 200 and "Đã chuyển hồ sơ sang chưa tiếp nhận" in answer.text
