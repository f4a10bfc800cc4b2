"""The desk's decisions: every form posts here, needs an officer (or admin) and its CSRF token,
calls `service.decisions` (the same calls as `intake decide`), and comes back to the page it was
sent from with one line saying what happened or why it could not.

    POST /ho-so/{id}/tiep-nhan          accept a rejected submission, waiving its errors
    POST /ho-so/{id}/khong-tiep-nhan    reject an accepted submission
    POST /don-vi/{code}/gia-han         extend one unit's deadline
    POST /dia-chi                       register an address for a unit (and reprocess its mail)
    POST /thu/{id}/xu-ly-lai            reprocess a quarantined or failed message
    POST /thu-gui/{id}/gui-lai          resend an uncertain or refused mail
    GET  /lua-chon, POST /lua-chon      the Prime Minister's 3 + 3 (any province-quota award)
    GET  /nhat-ky(.csv|.xlsx)           the audit trail, for the campaign or one unit
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from desk.security import OfficerRole, Viewer, csrf_ok
from domain.kinds import NomineeKind
from pipeline.audit_export import audit_csv, audit_workbook, details_text
from service import decisions, selection
from service.decisions import Decided, DecisionRefused
from service.runtime import App
from storage import audit, read_model

Page = Callable[..., HTMLResponse]
Attachment = Callable[[bytes, str, str], Response]
AUDIT_ROWS_SHOWN = 500
FLASH = "flash"


def flash(request: Request, text: str, ok: bool) -> None:
    request.session[FLASH] = {"text": text, "ok": ok}


def take_flash(request: Request) -> dict[str, Any] | None:
    value = request.session.pop(FLASH, None)
    return value if isinstance(value, dict) else None


def _back(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _decide(
    request: Request,
    csrf: str,
    back: str,
    act: Callable[[datetime], Decided],
    done: str,
) -> Response:
    """Check the token, make the decision, and say how it went on the page it came from."""
    if not csrf_ok(request, csrf):
        raise HTTPException(403, "CSRF")
    try:
        decided = act(datetime.now(UTC))
    except DecisionRefused as err:
        flash(request, str(err), ok=False)
        return _back(back)
    told = " Đơn vị sẽ nhận thư báo." if decided.mail_id else ""
    flash(request, f"{done} (nhật ký dòng {decided.audit_seq}).{told}", ok=True)
    return _back(back)


def add_decision_routes(web: FastAPI, application: App, page: Page, attachment: Attachment) -> None:
    engine, campaign = application.engine, application.campaign

    def ctx() -> Any:
        return application.context

    @web.post("/ho-so/{submission_id}/tiep-nhan")
    def accept(
        request: Request,
        submission_id: int,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        unit: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
        waive: Annotated[list[int] | None, Form()] = None,
    ) -> Response:
        return _decide(
            request,
            csrf,
            f"/don-vi/{unit}",
            lambda now: decisions.accept_despite_findings(
                engine, ctx(), officer.username, submission_id, waive or [], reason, now
            ),
            "Đã tiếp nhận hồ sơ",
        )

    @web.post("/ho-so/{submission_id}/khong-tiep-nhan")
    def reject(
        request: Request,
        submission_id: int,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        unit: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        return _decide(
            request,
            csrf,
            f"/don-vi/{unit}",
            lambda now: decisions.reject(
                engine, ctx(), officer.username, submission_id, reason, now
            ),
            "Đã chuyển hồ sơ sang chưa tiếp nhận",
        )

    @web.post("/don-vi/{code}/gia-han")
    def extend(
        request: Request,
        code: str,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        until: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        def act(now: datetime) -> Decided:
            return decisions.extend_deadline(
                engine,
                ctx(),
                officer.username,
                code,
                decisions.moment(until, campaign),
                reason,
                now,
            )

        return _decide(request, csrf, f"/don-vi/{code}", act, f"Đã gia hạn đến {until}")

    @web.post("/dia-chi")
    def register(
        request: Request,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        code: Annotated[str, Form(alias="unit")],
        address: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        message: Annotated[int | None, Form()] = None,
        back: Annotated[str, Form()] = "",
    ) -> Response:
        return _decide(
            request,
            csrf,
            "/can-xu-ly" if back == "can-xu-ly" else f"/don-vi/{code}",
            lambda now: decisions.register_sender(
                engine, ctx(), officer.username, code, address, reason, now, message
            ),
            f"Đã đăng ký {address.strip().lower()} cho đơn vị {code}"
            + (f"; thư số {message} đã được xử lý lại" if message else ""),
        )

    @web.post("/thu/{message_id}/xu-ly-lai")
    def reprocess(
        request: Request,
        message_id: int,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        return _decide(
            request,
            csrf,
            "/can-xu-ly",
            lambda now: decisions.reprocess(
                engine, ctx(), officer.username, message_id, reason, now
            ),
            f"Thư số {message_id} sẽ được xử lý lại ở lượt tiếp theo",
        )

    @web.post("/thu-gui/{mail_id}/gui-lai")
    def resend(
        request: Request,
        mail_id: int,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        return _decide(
            request,
            csrf,
            "/can-xu-ly",
            lambda now: decisions.resend(engine, ctx(), officer.username, mail_id, reason, now),
            f"Thư số {mail_id} đã vào hàng đợi gửi lại",
        )

    @web.get("/lua-chon", response_class=HTMLResponse)
    def selection_page(request: Request, _: Viewer) -> Response:
        with Session(engine) as session:
            snapshot = read_model.snapshot(session, campaign, datetime.now(UTC))
        awards = [
            (code, award, selection.candidates(snapshot, code))
            for code, award in snapshot.campaign.awards.items()
            if award.province_quota is not None
        ]
        return page(request, "selection", awards=awards, s=snapshot)

    @web.post("/lua-chon")
    def select(
        request: Request,
        officer: OfficerRole,
        csrf: Annotated[str, Form()],
        award: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
        pick: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        picks = []
        for value in pick or []:
            unit, kind, key = (value.split("|", 2) + ["", ""])[:3]
            if kind in NomineeKind._value2member_map_:
                picks.append((unit, NomineeKind(kind), key))
        return _decide(
            request,
            csrf,
            "/lua-chon",
            lambda now: selection.select_nominees(
                engine, ctx(), officer.username, award, picks, reason, now
            ),
            f"Đã lưu lựa chọn ({len(picks)} trường hợp)",
        )

    @web.get("/nhat-ky", response_class=HTMLResponse)
    def audit_page(request: Request, _: Viewer, don_vi: str = "") -> Response:
        with Session(engine) as session:
            rows = audit.rows(session, don_vi or None, AUDIT_ROWS_SHOWN)
            chain = audit.verify(session)
        return page(
            request,
            "audit",
            trail=rows,
            unit=don_vi,
            chain=chain,
            details=details_text,
            shown=AUDIT_ROWS_SHOWN,
        )

    @web.get("/nhat-ky.{suffix}")
    def audit_file(suffix: str, _: Viewer, don_vi: str = "") -> Response:
        if suffix not in ("csv", "xlsx"):
            raise HTTPException(404)
        with Session(engine) as session:
            rows = audit.rows(session, don_vi or None)
        name = f"Nhat-ky-{don_vi or campaign.code}.{suffix}"
        if suffix == "csv":
            return attachment(audit_csv(rows, campaign.tz), name, "text/csv; charset=utf-8")
        return attachment(
            audit_workbook(rows, campaign.tz),
            name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
