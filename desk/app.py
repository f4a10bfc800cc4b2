"""The desk's routes. Each view reads the read model, builds plain data and hands it to a
template; every route declares who may see it (`Depends(viewer)`), so none can leak by omission.

    /dang-nhap, /dang-xuat      log in (rate-limited, CSRF) and out
    /                           Tổng quan: every unit, the province's totals, who is missing
    /don-vi/{code}              Đơn vị: every version, its nominees, findings, papers, replies
    /can-xu-ly                  Cần xử lý: mail a person must read, mail not processed, replies
    /tong-hop                   Tổng hợp: the digest as it would be sent now, the workbook and
                                the Tờ trình draft
    /tep/{id}, /thu/{id}.eml    a paper, an original email, as attachments by id
    /thu-gui/{id}               a reply sent to a unit, readable in the page
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from desk.actions import add_decision_routes, take_flash
from desk.security import (
    Forbidden,
    LoginRequired,
    LoginThrottle,
    SecurityHeaders,
    Viewer,
    csrf_ok,
    csrf_token,
    current,
    log_in,
)
from domain.kinds import DeskRole, NomineeKind, UnitKind
from domain.text import safe_filename
from domain.wording import (
    audit_action_label,
    audit_object_label,
    moment_text,
    outcome_label,
    percent_text,
    short_moment_text,
    status_label,
)
from pipeline.audit_export import details_text
from pipeline.digest import build_digest
from service import mailings, papers
from service.runtime import App
from storage import audit, inbound, read_model, users
from storage.files import FileStore
from storage.models import DocumentRecord, OutboundMail

REFRESH_SECONDS = 60
UNIT_AUDIT_ROWS = 100


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("desk", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        status_label=status_label,
        outcome_label=outcome_label,
        percent=percent_text,
        action_label=audit_action_label,
        object_label=audit_object_label,
    )
    return env


def attachment(payload: bytes, filename: str, media_type: str) -> Response:
    """A download by id: a safe name (no folders, no control characters), never a path."""
    name = safe_filename(filename)
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return Response(payload, media_type=media_type, headers={"Content-Disposition": disposition})


def _local(target: str) -> str:
    """Where to go after logging in: a path of this site only ("//host" and "/\\host" are
    other sites to a browser)."""
    return target if re.fullmatch(r"/(?![/\\])[^\s]*", target) else "/"


def create_app(application: App, secret_key: str, https_only: bool = False) -> FastAPI:
    """The desk over `application`'s database. `secret_key` signs the session cookies."""
    web = FastAPI(
        title="Bàn làm việc hồ sơ khen thưởng", docs_url=None, redoc_url=None, openapi_url=None
    )
    templates = _templates()
    throttle = LoginThrottle()
    campaign = application.campaign
    tz = campaign.tz
    files = FileStore(application.settings.storage.files_dir)

    web.add_middleware(SecurityHeaders)
    web.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="ban_lam_viec",
        max_age=8 * 3600,
        same_site="strict",
        https_only=https_only,
    )
    web.mount("/static", StaticFiles(packages=[("desk", "static")]), name="static")

    def page(
        request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        officer = current(request)
        html = templates.get_template(f"{template}.html.j2").render(
            request=request,
            officer=officer,
            can_decide=officer is not None and officer.role.rank >= DeskRole.OFFICER.rank,
            flash=take_flash(request),
            csrf=csrf_token(request),
            c=campaign,
            local=lambda m: moment_text(m, tz) if m else "",
            short=lambda m: short_moment_text(m, tz) if m else "",
            award_names=lambda n: "; ".join(
                a.name for code, a in campaign.awards.items() if code in n.awards
            ),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    add_decision_routes(web, application, page, attachment)

    @web.exception_handler(LoginRequired)
    def to_login(request: Request, _: LoginRequired) -> Response:
        return RedirectResponse(f"/dang-nhap?next={quote(request.url.path)}", status_code=303)

    @web.exception_handler(Forbidden)
    def forbidden(request: Request, _: Forbidden) -> Response:
        return page(
            request,
            "message",
            403,
            title="Không đủ quyền",
            text="Tài khoản này không được xem trang này.",
        )

    @web.get("/dang-nhap", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return page(request, "login", next=_local(next), error="")

    @web.post("/dang-nhap")
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        target = _local(next)
        if not csrf_ok(request, csrf):
            return page(
                request,
                "login",
                403,
                next=target,
                error="Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại.",
            )
        address = request.client.host if request.client else "?"
        if throttle.blocked(address, username):
            return page(
                request,
                "login",
                429,
                next=target,
                error="Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 10 phút.",
            )
        with Session(application.engine) as session:
            user = users.authenticate(session, username, password)
        if user is None:
            throttle.failed(address, username)
            return page(
                request, "login", 401, next=target, error="Tên đăng nhập hoặc mật khẩu không đúng."
            )
        throttle.succeeded(address, username)
        log_in(request, user.username, DeskRole(user.role))
        return RedirectResponse(target, status_code=303)

    @web.post("/dang-xuat")
    def logout(request: Request, csrf: Annotated[str, Form()], _: Viewer) -> Response:
        if not csrf_ok(request, csrf):
            raise HTTPException(403)
        request.session.clear()
        return RedirectResponse("/dang-nhap", status_code=303)

    @web.get("/", response_class=HTMLResponse)
    def overview(request: Request, _: Viewer, kind: str = "", state: str = "") -> Response:
        now = datetime.now(UTC)
        with Session(application.engine) as session:
            snapshot = read_model.snapshot(session, campaign, now)
            answered = read_model.last_replies(
                session, [e.current.message_id for e in snapshot.units if e.current]
            )
        view = build_digest(snapshot, None)
        last_reply = {
            e.unit.code: answered.get(e.current.message_id) for e in snapshot.units if e.current
        }
        kinds = {u.code: u.kind for u in campaign.units}
        rows = [
            r
            for r in view.rows
            if (not kind or kinds[r.code].value == kind) and (not state or r.status == state)
        ]
        return page(
            request,
            "overview",
            v=view,
            rows=rows,
            kind=kind,
            state=state,
            kinds=list(UnitKind),
            unit_kinds=kinds,
            last_reply=last_reply,
            refresh=REFRESH_SECONDS,
            now=now,
        )

    @web.get("/don-vi/{code}", response_class=HTMLResponse)
    def unit(request: Request, code: str, _: Viewer) -> Response:
        with Session(application.engine) as session:
            history = read_model.unit_history(session, campaign, code)
            trail = audit.rows(session, code, UNIT_AUDIT_ROWS)
        if history is None:
            raise HTTPException(404)
        return page(
            request,
            "unit",
            h=history,
            allocation=campaign.allocation_for(code),
            kinds=NomineeKind,
            trail=trail,
            details=details_text,
            deadline=history.campaign.last_moment_text_for(code),
            extended=history.campaign.extended(code),
        )

    @web.get("/can-xu-ly", response_class=HTMLResponse)
    def needs_a_person(request: Request, _: Viewer) -> Response:
        with Session(application.engine) as session:
            snapshot = read_model.snapshot(session, campaign, datetime.now(UTC))
        return page(request, "needs", s=snapshot, units=snapshot.campaign.units)

    @web.get("/tong-hop", response_class=HTMLResponse)
    def consolidated(request: Request, _: Viewer) -> Response:
        shown = mailings.preview_digest(application.engine, application.context, datetime.now(UTC))
        return page(request, "consolidated", text=shown.text, v=shown.view)

    @web.get("/tong-hop/bang-tong-hop.xlsx")
    def workbook(_: Viewer) -> Response:
        now = datetime.now(UTC)
        shown = mailings.preview_digest(application.engine, application.context, now)
        name = f"Tong-hop-khen-thuong-{now.astimezone(tz):%Y-%m-%d}.xlsx"
        return attachment(
            shown.workbook,
            name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    @web.get("/tong-hop/du-thao-to-trinh.docx")
    def to_trinh(_: Viewer) -> Response:
        now = datetime.now(UTC)
        drafted = papers.draft(application.engine, application.context, now)
        return attachment(
            drafted.payload,
            f"Du-thao-To-trinh-{now.astimezone(tz):%Y-%m-%d}.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )

    @web.get("/tong-hop/ban-tong-hop.html")
    def digest_html(_: Viewer) -> Response:
        now = datetime.now(UTC)
        shown = mailings.preview_digest(application.engine, application.context, now)
        return attachment(
            shown.html.encode(), f"Ban-tong-hop-{now.astimezone(tz):%Y-%m-%d}.html", "text/html"
        )

    @web.get("/tep/{document_id}")
    def paper(document_id: int, _: Viewer) -> Response:
        with Session(application.engine) as session:
            document = session.get(DocumentRecord, document_id)
        if document is None or not document.stored_path:
            raise HTTPException(404)
        return attachment(
            files.read(document.stored_path), document.filename, "application/octet-stream"
        )

    @web.get("/thu/{message_id}.eml")
    def original(message_id: int, _: Viewer) -> Response:
        with Session(application.engine) as session:
            try:
                stored = inbound.stored_raw(session, message_id)
            except LookupError:
                raise HTTPException(404) from None
        raw = files.read(stored.stored_path) if stored.stored_path else stored.data
        return attachment(raw, f"thu-{message_id}.eml", "message/rfc822")

    @web.get("/thu-gui/{mail_id}", response_class=HTMLResponse)
    def reply(request: Request, mail_id: int, _: Viewer) -> Response:
        with Session(application.engine) as session:
            mail = session.get(OutboundMail, mail_id)
        if mail is None:
            raise HTTPException(404)
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(("plain",))
        text = str(part.get_content()) if part is not None else ""
        attached = [p.get_filename() or "" for p in parsed.iter_attachments()]
        return page(request, "reply", m=mail, text=text, attached=attached)

    return web
