"""`intake`: the operator's command. Messages for the operator are in Vietnamese; logs in English.

intake --config FILE poll        one cycle: fetch, process, file away, send; exit 0
intake --config FILE status      per unit: current submission, state, counts vs allocation
intake --config FILE run         the scheduler: poll every N minutes until stopped
intake --config FILE health      database reachable and mailbox login works (exit 0/1)
intake --config FILE check       settings and campaign file are valid
intake --config FILE reprocess N put a quarantined or failed message back in the queue
intake --config FILE digest      send today's digest to the Department (--preview: show it only)
intake --config FILE export F    write the consolidated workbook
intake --config FILE remind      send the reminders due now (--dry-run: only show them)
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session
from typer.core import TyperGroup

import scheduler
from config.campaign import Campaign, CampaignError, NomineeKind, load_campaign
from config.settings import Settings, load_settings
from pipeline import jobs
from pipeline.consolidate import status_label
from pipeline.fetch import MailboxUnavailable, open_mailbox
from pipeline.poll import Context, PollReport, poll_once
from pipeline.remind import Reminder
from pipeline.send import DeliveryReport, Transport, deliver_due, open_transport
from storage import repository
from storage.db import open_database, ping
from storage.files import FileStore
from storage.models import (
    InboundMessage,
    MailState,
    MessageState,
    OutboundMail,
    Outcome,
    SubmissionStatus,
)


class _Commands(TyperGroup):
    """Every command: a database that is locked or unreachable is a message, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, InterfaceError) as err:
            logging.getLogger(__name__).error("database unavailable: %s", err.orig or err)
            raise fail(
                "Cơ sở dữ liệu đang bị khóa hoặc không truy cập được "
                f"({type(err.orig or err).__name__}). Không có thư nào bị mất: "
                "lượt sau sẽ tự thử lại; nếu lỗi kéo dài, kiểm tra máy chủ cơ sở dữ liệu và ổ đĩa.",
                code=1,
            ) from None


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    help="Tiếp nhận hồ sơ đề nghị khen thưởng qua thư điện tử.",
)


@dataclass
class App:
    settings: Settings
    campaign: Campaign
    engine: Engine

    @property
    def context(self) -> Context:
        return Context(self.campaign, self.settings, FileStore(self.settings.storage.files_dir))

    def transport(self) -> Transport:
        s = self.settings.outgoing
        return open_transport(s, s.smtp.secret() if s.smtp else None)

    def poll(self) -> PollReport:
        s = self.settings
        mailbox = open_mailbox(s.mailbox, s.mailbox.imap.secret() if s.mailbox.imap else None)
        return poll_once(self.engine, self.context, mailbox, self.transport())

    def deliver(self) -> DeliveryReport:
        return deliver_due(
            self.engine,
            self.transport(),
            self.campaign.department.intake_address,
            self.settings.outgoing.max_attempts,
        )

    def digest(self, now: datetime | None = None, again: bool = False) -> bool:
        queued = jobs.send_digest(self.engine, self.context, now or datetime.now(UTC), again=again)
        self.deliver()
        return queued

    def remind(self, now: datetime | None = None, units: list[str] | None = None) -> list[Reminder]:
        queued = jobs.send_reminders(self.engine, self.context, now or datetime.now(UTC), units)
        self.deliver()
        return queued

    def scheduled_jobs(self) -> scheduler.Jobs:
        def each(name: str, work: Callable[[], object]) -> Callable[[], object]:
            return lambda: jobs.recorded(self.engine, name, work)

        return scheduler.Jobs(
            poll=each("poll", self.poll),
            deliver=each("deliver", self.deliver),
            digest=each("digest", self.digest),
            remind=each("remind", self.remind),
        )


AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help='Xem như vào thời điểm này, giờ Việt Nam (ví dụ "2021-05-24 17:00").'
    ),
]


def moment(application: App, at: str | None) -> datetime:
    """Now, or the operator's "as if at" time (naive times are in the campaign's time zone)."""
    if at is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise fail(f'Thời điểm "{at}" không hợp lệ; ghi dạng "2021-05-24 17:00".') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=application.campaign.tz)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def load_app(ctx: typer.Context) -> App:
    return load_app_from(ctx.obj)


def load_app_from(path: Path) -> App:
    try:
        settings = load_settings(path)
        campaign = load_campaign(settings.campaign_file)
    except FileNotFoundError as err:
        raise fail(str(err)) from None
    except ValidationError as err:
        lines = "\n".join(f"  - {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise fail(f"Tệp cấu hình {path} không hợp lệ:\n{lines}") from None
    except CampaignError as err:
        raise fail(str(err)) from None
    database = settings.database
    return App(settings, campaign, open_database(database.url, database.lock_timeout_seconds))


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", envvar="INTAKE_CONFIG", help="Tệp cấu hình TOML."),
    ] = Path("intake.toml"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Ghi nhật ký chi tiết.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter on every start
    os.umask(0o077)  # the database, stored files and written mail: readable by this user only
    ctx.obj = config


@app.command()
def poll(ctx: typer.Context) -> None:
    """Chạy một lượt: lấy thư mới, xử lý, phân loại thư, gửi thư trả lời."""
    report = load_app(ctx).poll()
    if report.skipped_busy:
        typer.echo("Một lượt xử lý khác đang chạy; lượt này bỏ qua.")
        return
    labels = {
        Outcome.SUBMISSION: "hồ sơ",
        Outcome.UNKNOWN_SENDER: "địa chỉ chưa đăng ký",
        Outcome.AUTOMATIC: "thư tự động",
        Outcome.DUPLICATE: "thư trùng",
        Outcome.CORRESPONDENCE: "thư trao đổi",
        Outcome.SUSPICIOUS: "thư nghi giả mạo",
        Outcome.TOO_LARGE: "thư quá lớn",
    }
    handled = (
        ", ".join(f"{n} {labels.get(Outcome(k), k)}" for k, n in report.outcomes.items())
        or "không có"
    )
    typer.echo(f"Đã lấy {report.fetched} thư mới. Đã xử lý: {handled}.")
    if report.failed or report.quarantined:
        typer.echo(
            f"Lỗi khi xử lý: {report.failed} thư (sẽ thử lại), {report.quarantined} thư bị cách ly."
        )
    typer.echo(
        f"Đã gửi {report.sent} thư trả lời"
        + (f", {report.deferred} thư chờ gửi lại" if report.deferred else "")
        + (f", {report.send_failed} thư không gửi được" if report.send_failed else "")
        + "."
    )
    if report.problems:
        raise fail("\n".join([*report.problems, "Lượt sau sẽ tự thử lại."]), code=1)


@app.command()
def run(ctx: typer.Context) -> None:
    """Chạy dịch vụ: xử lý thư, gửi bản tổng hợp và thư nhắc theo lịch, cho đến khi bị dừng."""
    application = load_app(ctx)
    scheduler.run_forever(
        application.scheduled_jobs(), application.settings.schedule, application.campaign.timezone
    )


@app.command()
def health(ctx: typer.Context) -> None:
    """Kiểm tra cơ sở dữ liệu và đăng nhập hộp thư (mã thoát 0 nếu ổn)."""
    application = load_app(ctx)
    problems = []
    try:
        ping(application.engine)
    except Exception as err:
        problems.append(f"Không kết nối được cơ sở dữ liệu: {err}")
    s = application.settings
    try:
        with open_mailbox(s.mailbox, s.mailbox.imap.secret() if s.mailbox.imap else None):
            pass
    except MailboxUnavailable as err:
        problems.append(f"Không mở được hộp thư: {err.reason}.")
    if problems:
        raise fail("\n".join(problems), code=1)
    typer.echo("Ổn: cơ sở dữ liệu và hộp thư đều truy cập được.")


@app.command()
def check(ctx: typer.Context) -> None:
    """Kiểm tra tệp cấu hình và tệp chiến dịch."""
    application = load_app(ctx)
    c = application.campaign
    total = c.allocation.total
    typer.echo(f"Chiến dịch: {c.title}")
    typer.echo(
        f"Đơn vị: {len(c.units)}; phân bổ: {total.collectives} tập thể, {total.individuals} cá nhân"
        + (" (số liệu minh họa)" if c.allocation.illustrative else "")
    )
    typer.echo(
        f"Thời hạn: {c.deadline.stated}, tức đến {c.last_moment_text}; nộp muộn: "
        + ("từ chối" if c.deadline.late_policy == "reject" else "tiếp nhận và đánh dấu")
    )
    typer.echo("Cấu hình hợp lệ.")


@app.command()
def reprocess(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="Số thứ tự thư (xem `intake status`).")],
) -> None:
    """Đưa một thư bị cách ly hoặc bị lỗi trở lại hàng đợi xử lý."""
    application = load_app(ctx)
    with Session(application.engine) as session:
        message = session.get(InboundMessage, message_id)
        if message is None:
            raise fail(f"Không có thư số {message_id}.")
        if message.state not in (MessageState.QUARANTINED, MessageState.FAILED):
            raise fail(
                f"Thư số {message_id} đã được xử lý xong ({message.state}); không cần xử lý lại."
            )
        message.state, message.attempts = MessageState.RECEIVED, 0
        session.add(message)
        session.commit()
    typer.echo(f"Thư số {message_id} sẽ được xử lý lại ở lượt tiếp theo.")


def _status_data(application: App) -> dict[str, Any]:
    c = application.campaign
    tz = c.tz
    allocated = c.allocation.award

    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).isoformat(timespec="minutes") if moment else None

    units: list[dict[str, Any]] = []
    with Session(application.engine) as session:
        snapshot = repository.snapshot(session, c, datetime.now(UTC))
        for entry in snapshot.units:
            sub = entry.current
            allocation = c.allocation_for(entry.unit.code)
            units.append(
                {
                    "code": entry.unit.code,
                    "name": entry.unit.name,
                    "kind": entry.unit.kind.value,
                    "allocation": {
                        "collectives": allocation.collectives,
                        "individuals": allocation.individuals,
                    },
                    "submissions": entry.submissions,
                    "current": None
                    if sub is None
                    else {
                        "version": sub.version,
                        "status": sub.status,
                        "late": sub.late,
                        "received_at": local(sub.received_at),
                        "errors": sub.errors,
                        "warnings": sub.warnings,
                        "proposed": {
                            code: {k.value: entry.proposed(code, k) for k in NomineeKind}
                            for code in c.awards
                        },
                    },
                }
            )

        def describe(m: InboundMessage) -> dict[str, Any]:
            return {
                "id": m.id,
                "from": m.from_address,
                "subject": m.subject,
                "received_at": local(m.received_at or m.fetched_at),
                "detail": m.outcome_detail,
                "error": m.last_error,
            }

        unknown = [
            describe(m)
            for m in repository.messages_with_outcome(
                session,
                Outcome.UNKNOWN_SENDER,
                Outcome.SUSPICIOUS,
                Outcome.CORRESPONDENCE,
                Outcome.TOO_LARGE,
            )
        ]
        stuck = [
            describe(m)
            for m in repository.messages_in_state(
                session, MessageState.QUARANTINED, MessageState.FAILED
            )
        ]
        outbox = repository.mail_counts(session)
        mail_problems = [
            {"id": m.id, "to": m.recipient, "state": m.state, "error": m.last_error}
            for state in (MailState.UNCERTAIN, MailState.FAILED)
            for m in repository.mail_in_state(session, state)
        ]
        job_runs = [
            {
                "job": r.job,
                "started_at": local(r.started_at),
                "finished_at": local(r.finished_at),
                "outcome": r.outcome,
                "detail": r.detail,
            }
            for r in repository.last_job_runs(session)
        ]
    accepted = [
        u for u in units if u["current"] and u["current"]["status"] != SubmissionStatus.REJECTED
    ]
    return {
        "campaign": {
            "code": c.code,
            "title": c.title,
            "deadline": local(c.closes_at),
            "deadline_stated": c.deadline.stated,
        },
        "units": units,
        "totals": {
            "allocation": {
                "collectives": c.allocation.total.collectives,
                "individuals": c.allocation.total.individuals,
            },
            "accepted": {
                k.value: sum(u["current"]["proposed"][allocated][k.value] for u in accepted)
                for k in NomineeKind
            },
        },
        "to_read": unknown,
        "not_processed": stuck,
        "outbox": outbox,
        "mail_problems": mail_problems,
        "jobs": job_runs,
    }


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON cho máy đọc.")] = False,
) -> None:
    """Tình hình nộp hồ sơ của từng đơn vị."""
    application = load_app(ctx)
    data = _status_data(application)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    c = application.campaign
    allocated = c.allocation.award
    typer.echo(f"{c.title}\nThời hạn: {c.deadline.stated} ({c.last_moment_text})\n")
    header = f"{'Mã':<14}{'Đơn vị':<36}{'Lần':>4}  {'Trạng thái':<22}{'Nhận lúc':<18}{'Tập thể':>9}{'Cá nhân':>9}{'TTg':>6}{'Lỗi':>5}"
    typer.echo(header)
    typer.echo("-" * len(header))
    other_awards = [code for code in c.awards if code != allocated]
    for u in data["units"]:
        cur = u["current"]
        alloc = u["allocation"]
        if cur is None:
            typer.echo(
                f"{u['code']:<14}{u['name'][:35]:<36}{'-':>4}  {'chưa nộp':<22}{'':<18}"
                f"{'0/' + str(alloc['collectives']):>9}{'0/' + str(alloc['individuals']):>9}{'':>6}{'':>5}"
            )
            continue
        p = cur["proposed"][allocated]
        pm = sum(
            cur["proposed"][code][k] for code in other_awards for k in ("collective", "individual")
        )
        received = (cur["received_at"] or "")[:16].replace("T", " ")
        typer.echo(
            f"{u['code']:<14}{u['name'][:35]:<36}{cur['version']:>4}  {status_label(cur['status']):<22}{received:<18}"
            f"{str(p['collective']) + '/' + str(alloc['collectives']):>9}"
            f"{str(p['individual']) + '/' + str(alloc['individuals']):>9}{pm:>6}{cur['errors']:>5}"
        )
    t = data["totals"]
    typer.echo(
        f"\nĐã tiếp nhận: {t['accepted']['collective']}/{t['allocation']['collectives']} tập thể, "
        f"{t['accepted']['individual']}/{t['allocation']['individuals']} cá nhân."
    )
    if data["to_read"]:
        typer.echo(
            "\nThư cần người đọc (địa chỉ chưa đăng ký, nghi giả mạo, quá lớn, thư trao đổi):"
        )
        for m in data["to_read"]:
            typer.echo(f"  #{m['id']} {m['from']} – {m['subject']} ({m['detail']})")
    if data["not_processed"]:
        typer.echo("\nThư chưa xử lý được (xem lỗi, sửa rồi chạy `intake reprocess SỐ`):")
        for m in data["not_processed"]:
            typer.echo(f"  #{m['id']} {m['from']} – {m['subject']}: {m['error']}")
    if data["jobs"]:
        names = {
            "poll": "lấy và xử lý thư",
            "deliver": "gửi thư",
            "digest": "bản tổng hợp",
            "remind": "thư nhắc",
        }
        outcomes = {"ok": "thành công", "failed": "LỖI", "running": "đang chạy"}
        typer.echo("\nLần chạy gần nhất của các việc theo lịch:")
        for j in data["jobs"]:
            started = (j["started_at"] or "")[:16].replace("T", " ")
            detail = f": {j['detail']}" if j["outcome"] == "failed" else ""
            typer.echo(
                f"  {names.get(j['job'], j['job'])}: {started} – {outcomes.get(j['outcome'], j['outcome'])}{detail}"
            )
    outbox = data["outbox"]
    if data["mail_problems"]:
        typer.echo("\nThư gửi đi cần xem lại (không rõ đã đến nơi, hoặc bị từ chối):")
    for m in data["mail_problems"]:
        typer.echo(
            f"  thư gửi đi #{m['id']} tới {m['to']} ({m['state']}): {m['error']} – gửi lại: intake resend {m['id']}"
        )
    if outbox.get(MailState.QUEUED) or outbox.get(MailState.FAILED):
        typer.echo(
            f"\nThư trả lời: {outbox.get(MailState.QUEUED, 0)} đang chờ gửi, "
            f"{outbox.get(MailState.FAILED, 0)} không gửi được."
        )


@app.command()
def resend(
    ctx: typer.Context,
    mail_id: Annotated[int, typer.Argument(help="Số thứ tự thư gửi đi (xem `intake status`).")],
) -> None:
    """Gửi lại một thư không rõ đã đến nơi chưa, hoặc đã bị máy chủ từ chối."""
    application = load_app(ctx)
    with Session(application.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        if mail is None or mail.state not in (MailState.UNCERTAIN, MailState.FAILED):
            raise fail(f"Không có thư gửi đi số {mail_id} ở trạng thái cần gửi lại.")
        mail.state, mail.attempts, mail.next_attempt_at = MailState.QUEUED, 0, datetime.now(UTC)
        session.add(mail)
        session.commit()
    report = application.deliver()
    typer.echo(
        f"Đã gửi lại thư số {mail_id}." if report.sent else f"Thư số {mail_id} đã vào hàng đợi gửi."
    )


@app.command()
def digest(
    ctx: typer.Context,
    preview: Annotated[bool, typer.Option("--preview", help="Chỉ xem, không gửi.")] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Với --preview: ghi bản HTML vào tệp này (và bảng Excel bên cạnh).",
        ),
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Gửi thêm một lần dù hôm nay đã gửi.")
    ] = False,
    at: AtOption = None,
) -> None:
    """Bản tổng hợp hằng ngày gửi Sở Nội vụ, kèm bảng tổng hợp Excel."""
    application = load_app(ctx)
    if at is not None and not preview:
        raise fail("--at chỉ dùng cùng --preview.")
    now = moment(application, at)
    if preview:
        shown = jobs.preview_digest(application.engine, application.context, now)
        if output is None:
            typer.echo(shown.text)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(shown.html, encoding="utf-8")
        workbook = output.with_suffix(".xlsx")
        workbook.write_bytes(shown.workbook)
        typer.echo(f"Đã ghi bản tổng hợp vào {output} và bảng tổng hợp vào {workbook}.")
        return
    if application.digest(now, again=again):
        recipients = ", ".join(application.campaign.department.digest_recipients)
        typer.echo(f"Đã gửi bản tổng hợp tới {recipients}.")
    else:
        typer.echo(
            "Hôm nay đã gửi bản tổng hợp (dùng --again để gửi thêm), hoặc chưa khai báo người nhận."
        )


@app.command()
def export(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Tệp Excel (.xlsx) sẽ ghi.")],
    at: AtOption = None,
) -> None:
    """Ghi bảng tổng hợp danh sách đề nghị khen thưởng ra tệp Excel."""
    application = load_app(ctx)
    shown = jobs.preview_digest(application.engine, application.context, moment(application, at))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(shown.workbook)
    totals = shown.view.quotas[0]
    typer.echo(
        f"Đã ghi {path}: {totals.collectives} tập thể, {totals.individuals} cá nhân "
        f"của {shown.view.accepted} đơn vị đã được tiếp nhận."
    )


@app.command()
def remind(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ liệt kê, không gửi.")] = False,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", "-u", help="Gửi ngay cho đơn vị này (mã đơn vị), kể cả sau hạn."),
    ] = None,
    at: AtOption = None,
) -> None:
    """Gửi thư nhắc hạn cho các đơn vị chưa có hồ sơ được tiếp nhận."""
    application = load_app(ctx)
    unknown = [code for code in unit or [] if code not in application.campaign.units_by_code]
    if unknown:
        raise fail(f"Không có đơn vị mã {', '.join(unknown)} trong chiến dịch.")
    if at is not None and not dry_run:
        raise fail("--at chỉ dùng cùng --dry-run.")
    now = moment(application, at)
    if dry_run:
        due = jobs.reminders_due(application.engine, application.context, now, unit)
        if not due:
            typer.echo("Hiện không có thư nhắc nào đến hạn gửi.")
        for r in due:
            state = status_label(r.entry.current.status if r.entry.current else None)
            when = (
                "theo yêu cầu" if r.days_before is None else f"nhắc trước hạn {r.days_before} ngày"
            )
            typer.echo(
                f"{r.entry.unit.code:<14}{r.entry.unit.name} ({state}) – {when} → {', '.join(r.entry.unit.senders)}"
            )
        return
    sent = application.remind(now, unit)
    typer.echo(
        f"Đã gửi {len(sent)} thư nhắc." if sent else "Không có thư nhắc nào cần gửi lúc này."
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
