"""Officers' decisions, the same from the desk and the command line: each checked against the
current state, applied, told to the unit when it changes the unit's outcome (through the outbox,
once), and written to the audit trail, all in one transaction. A decision that no longer fits the
state (a second click, another officer first, a later version) is refused with a sentence that
says why, so nothing happens twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.campaign import Campaign, Unit
from domain.kinds import AuditAction, MailKind, MessageState, Outcome, SubmissionStatus
from domain.model import ParsedEmail
from domain.wording import MOMENT_FORMS, moment_text, parse_moment
from pipeline.envelope import addresses
from pipeline.notice import DecisionNotice, NoticeKind, compose_notice
from pipeline.parse import parse_headers
from pipeline.reply import can_reply_to
from service.context import Context, PollReport
from service.outbox import queue_email
from service.process import process_pending
from storage import audit, decisions, inbound, outbox, submissions
from storage.db import claiming_session
from storage.models import InboundMessage, OutboundMail, Submission

MIN_REASON = 5  # characters: "ok" is not a reason anyone can check later

# What an officer is told when a decision cannot be made, by cause.
REFUSALS = {
    "no_reason": "Cần ghi lý do (ít nhất {n} ký tự): quyết định được lưu vào nhật ký và có thể bị kiểm tra lại.",
    "no_submission": "Không có hồ sơ số {id}.",
    "unit_has_none": "Đơn vị {code} chưa gửi hồ sơ.",
    "version_not_current": "Hồ sơ hiện hành của đơn vị {code} là lần {latest}, không phải lần {version}.",
    "not_current": "Hồ sơ số {id} không còn là hồ sơ hiện hành của đơn vị (đơn vị đã gửi lần {latest}); hãy xem xét hồ sơ mới nhất.",
    "already_accepted": "Hồ sơ số {id} đang ở trạng thái đã tiếp nhận; không cần tiếp nhận lại.",
    "already_rejected": "Hồ sơ số {id} đang ở trạng thái chưa tiếp nhận.",
    "not_waived": "Muốn tiếp nhận, cần chấp thuận bỏ qua từng lỗi; còn {n} lỗi chưa chọn: {codes}.",
    "no_unit": "Không có đơn vị mã {code} trong chiến dịch.",
    "bad_moment": "Hạn mới “{value}” không hợp lệ; {forms}.",
    "extension_too_early": "Hạn mới ({new}) phải sau hạn chung ({old}).",
    "extension_unchanged": "Đơn vị {code} đã được gia hạn đến đúng {new}.",
    "bad_address": "Địa chỉ thư “{address}” không hợp lệ.",
    "address_taken": "Địa chỉ {address} đã là địa chỉ gửi của đơn vị {code}.",
    "no_message": "Không có thư đến số {id}.",
    "message_not_from": "Thư đến số {id} được gửi từ {sender}, không phải từ {address}.",
    "not_unknown_sender": "Thư đến số {id} không phải thư từ địa chỉ chưa đăng ký (đã xử lý là: {outcome}).",
    "older_than_current": "Thư số {id} nhận lúc {received}, trước hồ sơ hiện hành của đơn vị {code} (lần {version}, nhận lúc {current}); xử lý lại sẽ thay hồ sơ mới hơn bằng hồ sơ cũ. Đăng ký địa chỉ mà không xử lý lại thư này.",
    "not_requeueable": "Thư đến số {id} không bị cách ly hay lỗi (trạng thái: {state}); không cần xử lý lại.",
    "not_resendable": "Không có thư gửi đi số {id} ở trạng thái không rõ đã đến hay bị từ chối.",
    "no_quota_award": "Hình thức {award} không có chỉ tiêu toàn tỉnh để lựa chọn.",
    "over_quota": "Chỉ được chọn tối đa {quota} {kind} cho {award}; đã chọn {n}.",
    "not_candidate": "{name} ({unit}) không có trong danh sách đã tiếp nhận đề nghị {award}.",
}


class DecisionRefused(Exception):
    """The decision does not fit the current state; the message says why, in Vietnamese."""

    def __init__(self, cause: str, **values: object) -> None:
        super().__init__(REFUSALS[cause].format(**values))
        self.cause = cause


@dataclass(frozen=True)
class Decided:
    audit_seq: int
    mail_id: int | None = None  # the mail that tells the unit, if it is told


def operator(username: str) -> str:
    """How the command line names its actor in the audit trail."""
    return f"người vận hành ({username})"


def moment(text: str, campaign: Campaign) -> datetime:
    """A moment as an officer writes it, in the campaign's time zone."""
    parsed = parse_moment(text, campaign.tz)
    if parsed is None:
        raise DecisionRefused("bad_moment", value=text, forms=MOMENT_FORMS)
    return parsed


def reason_given(reason: str) -> str:
    """The reason, tidied; refused when too short to be checked later."""
    text = " ".join(reason.split())
    if len(text) < MIN_REASON:
        raise DecisionRefused("no_reason", n=MIN_REASON)
    return text


def _last_mail(session: Session, message_id: int) -> ParsedEmail:
    return parse_headers(inbound.raw_bytes(session, message_id))


def _tell(
    session: Session,
    ctx: Context,
    notice: DecisionNotice,
    to: Sequence[Address],
    answering: ParsedEmail | None,
    now: datetime,
) -> OutboundMail:
    msg = compose_notice(notice, to, answering, ctx.settings.outgoing.from_name, now)
    return queue_email(session, msg, MailKind.DECISION, None, notice.unit.code)


def _current_submission(
    session: Session, campaign: Campaign, submission_id: int
) -> tuple[Submission, Unit]:
    submission = decisions.submission_for_decision(session, submission_id)
    if submission is None or submission.campaign_code != campaign.code:
        raise DecisionRefused("no_submission", id=submission_id)
    if not submission.is_current:
        latest = submissions.current_submission(session, campaign.code, submission.unit_code)
        raise DecisionRefused(
            "not_current", id=submission_id, latest=latest.version if latest else "?"
        )
    return submission, campaign.units_by_code[submission.unit_code]


def _decide_on_submission(
    engine: Engine,
    ctx: Context,
    actor: str,
    submission_id: int,
    reason: str,
    now: datetime,
    *,
    accept: bool,
    waived_ids: Collection[int] = (),
) -> Decided:
    reason = reason_given(reason)
    with claiming_session(engine) as session:
        campaign = decisions.effective_campaign(session, ctx.campaign)
        submission, unit = _current_submission(session, campaign, submission_id)
        status = SubmissionStatus(submission.status)
        if accept and status.accepted:
            raise DecisionRefused("already_accepted", id=submission_id)
        if not accept and not status.accepted:
            raise DecisionRefused("already_rejected", id=submission_id)
        errors = decisions.open_errors(session, submission_id) if accept else []
        left = [f for f in errors if f.id not in waived_ids]
        if left:
            codes = ", ".join(sorted({f.code for f in left}))
            raise DecisionRefused("not_waived", n=len(left), codes=codes)
        if accept:
            new = SubmissionStatus.ACCEPTED_LATE if submission.late else SubmissionStatus.ACCEPTED
        else:
            new = SubmissionStatus.REJECTED
        decisions.set_status(session, submission, new, actor, reason, errors)
        kind: NoticeKind = "accepted" if accept else "rejected"
        notice = DecisionNotice(
            campaign=campaign,
            unit=unit,
            kind=kind,
            reason=reason,
            version=submission.version,
            received_at=submission.received_at,
            late=submission.late,
            waived=tuple(f.message for f in errors),
        )
        original = _last_mail(session, submission.inbound_message_id)
        to = (
            (Address(original.from_name, addr_spec=original.from_address),)
            if can_reply_to(original.from_address)
            else addresses(unit.senders)
        )
        mail = _tell(session, ctx, notice, to, original, now)
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.ACCEPT_DESPITE_FINDINGS if accept else AuditAction.REJECT,
            subject=audit.Subject("submission", submission_id, unit.code),
            reason=reason,
            details={
                "version": submission.version,
                "from": status.value,
                "to": new.value,
                "waived": [{"id": f.id, "code": f.code, "message": f.message} for f in errors],
                "mail": mail.id,
            },
            at=now,
        )
        decided = Decided(row.seq, mail.id)
        session.commit()
        return decided


def accept_despite_findings(
    engine: Engine,
    ctx: Context,
    actor: str,
    submission_id: int,
    waived_ids: Collection[int],
    reason: str,
    now: datetime,
) -> Decided:
    """Accept a rejected current submission; every open error must be waived by id."""
    return _decide_on_submission(
        engine, ctx, actor, submission_id, reason, now, accept=True, waived_ids=waived_ids
    )


def reject(
    engine: Engine, ctx: Context, actor: str, submission_id: int, reason: str, now: datetime
) -> Decided:
    """Reject an accepted current submission; the reason is what the unit must fix."""
    return _decide_on_submission(engine, ctx, actor, submission_id, reason, now, accept=False)


def current_submission_id(
    engine: Engine, ctx: Context, unit_code: str, version: int | None = None
) -> int:
    """The unit's current submission, as the command line names it; with `version`, only if
    that is still the current one (the unit may have sent another since the operator looked)."""
    if unit_code not in ctx.campaign.units_by_code:
        raise DecisionRefused("no_unit", code=unit_code)
    with Session(engine) as session:
        current = submissions.current_submission(session, ctx.campaign.code, unit_code)
    if current is None or current.id is None:
        raise DecisionRefused("unit_has_none", code=unit_code)
    if version is not None and version != current.version:
        raise DecisionRefused(
            "version_not_current", code=unit_code, latest=current.version, version=version
        )
    return current.id


def open_error_ids(
    engine: Engine, submission_id: int, codes: Collection[str], all_codes: bool = False
) -> list[int]:
    """The open errors of a submission with these codes (how the command line names them)."""
    with Session(engine) as session:
        return [
            f.id
            for f in decisions.open_errors(session, submission_id)
            if f.id is not None and (all_codes or f.code in codes)
        ]


def extend_deadline(
    engine: Engine,
    ctx: Context,
    actor: str,
    unit_code: str,
    last_minute: datetime,
    reason: str,
    now: datetime,
) -> Decided:
    """Give one unit until `last_minute` (the last minute on time, as officers say "hết 17:00")."""
    reason = reason_given(reason)
    closes_at = last_minute.replace(second=0, microsecond=0) + timedelta(minutes=1)
    with claiming_session(engine) as session:
        campaign = decisions.effective_campaign(session, ctx.campaign)
        unit = campaign.units_by_code.get(unit_code)
        if unit is None:
            raise DecisionRefused("no_unit", code=unit_code)
        shown = moment_text(last_minute, campaign.tz)
        if closes_at <= campaign.closes_at:
            raise DecisionRefused("extension_too_early", new=shown, old=campaign.last_moment_text)
        if unit.closes_at == closes_at:
            raise DecisionRefused("extension_unchanged", code=unit_code, new=shown)
        previous = campaign.closes_at_for(unit_code)
        decisions.extend_deadline(session, campaign, unit_code, closes_at, actor, reason)
        amended = campaign.amended({}, {unit_code: closes_at})
        last = inbound.last_message_from(session, unit.senders)
        notice = DecisionNotice(
            campaign=amended, unit=amended.units_by_code[unit_code], kind="extended", reason=reason
        )
        answering = _last_mail(session, last.id) if last is not None and last.id else None
        mail = _tell(session, ctx, notice, addresses(unit.senders), answering, now)
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.EXTEND_DEADLINE,
            subject=audit.Subject("unit", unit_code, unit_code),
            reason=reason,
            details={
                "from": moment_text(previous - timedelta(minutes=1), campaign.tz),
                "to": moment_text(closes_at - timedelta(minutes=1), campaign.tz),
                "mail": mail.id,
            },
            at=now,
        )
        decided = Decided(row.seq, mail.id)
        session.commit()
        return decided


def register_sender(
    engine: Engine,
    ctx: Context,
    actor: str,
    unit_code: str,
    address: str,
    reason: str,
    now: datetime,
    message_id: int | None = None,
) -> Decided:
    """Recognise `address` as the unit's and, given the unknown sender's message, handle it
    again at once as the unit's submission (its answer goes out with the next delivery)."""
    reason = reason_given(reason)
    address = address.strip().lower()
    if not can_reply_to(address) or "@" not in address:
        raise DecisionRefused("bad_address", address=address)
    with claiming_session(engine) as session:
        campaign = decisions.effective_campaign(session, ctx.campaign)
        if unit_code not in campaign.units_by_code:
            raise DecisionRefused("no_unit", code=unit_code)
        owner = campaign.unit_by_sender.get(address)
        if owner is not None:
            raise DecisionRefused("address_taken", address=address, code=owner.code)
        message = _unknown_sender_message(session, message_id, address) if message_id else None
        if message is not None:
            _not_older_than_current(session, campaign, unit_code, message)
        decisions.register_sender(session, campaign, unit_code, address, actor, reason)
        if message is not None:
            inbound.reopen(session, message)
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.REGISTER_SENDER,
            subject=audit.Subject("unit", unit_code, unit_code),
            reason=reason,
            details={"address": address, "message": message_id},
            at=now,
        )
        decided = Decided(row.seq)
        session.commit()
    if message is not None:
        process_pending(engine, ctx, PollReport(), now)
    return decided


def _unknown_sender_message(session: Session, message_id: int, address: str) -> InboundMessage:
    message = session.get(InboundMessage, message_id)
    if message is None:
        raise DecisionRefused("no_message", id=message_id)
    if message.from_address != address:
        raise DecisionRefused(
            "message_not_from", id=message_id, sender=message.from_address, address=address
        )
    if message.state != MessageState.DONE or message.outcome != Outcome.UNKNOWN_SENDER:
        raise DecisionRefused("not_unknown_sender", id=message_id, outcome=message.outcome)
    return message


def _not_older_than_current(
    session: Session, campaign: Campaign, unit_code: str, message: InboundMessage
) -> None:
    """Handled now, the message would become the unit's newest version: refused when the unit
    already has a submission received after it, which it would wrongly replace."""
    current = submissions.current_submission(session, campaign.code, unit_code)
    received = message.received_at or message.fetched_at
    if current is not None and current.received_at > received:
        raise DecisionRefused(
            "older_than_current",
            id=message.id,
            received=moment_text(received, campaign.tz),
            code=unit_code,
            version=current.version,
            current=moment_text(current.received_at, campaign.tz),
        )


def reprocess(
    engine: Engine, ctx: Context, actor: str, message_id: int, reason: str, now: datetime
) -> Decided:
    """Put a quarantined or failed message back in the queue (handled at the next poll)."""
    reason = reason_given(reason)
    with claiming_session(engine) as session:
        try:
            message = inbound.requeue(session, message_id)
        except inbound.NotRequeueable as err:
            if err.state is None:
                raise DecisionRefused("no_message", id=message_id) from None
            raise DecisionRefused("not_requeueable", id=message_id, state=err.state) from None
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.REPROCESS,
            subject=audit.Subject("message", message_id),
            reason=reason,
            details={"from": message.from_address, "subject": message.subject},
            at=now,
        )
        decided = Decided(row.seq)
        session.commit()
        return decided


def resend(
    engine: Engine, ctx: Context, actor: str, mail_id: int, reason: str, now: datetime
) -> Decided:
    """Send an uncertain or refused mail again (with the next delivery)."""
    reason = reason_given(reason)
    with claiming_session(engine) as session:
        try:
            mail = outbox.requeue_for_resend(session, mail_id)
        except outbox.NotResendable:
            raise DecisionRefused("not_resendable", id=mail_id) from None
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.RESEND,
            subject=audit.Subject("mail", mail_id, mail.unit_code),
            reason=reason,
            details={"to": mail.recipient, "subject": mail.subject, "kind": str(mail.kind)},
            at=now,
        )
        decided = Decided(row.seq, mail_id)
        session.commit()
        return decided
