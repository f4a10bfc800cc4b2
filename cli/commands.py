"""`intake`: the operator's commands, declared. Messages for the operator are in Vietnamese; logs
in English. What a command does lives in `service`; the status table and JSON in `cli.status`.

intake --config FILE poll        one cycle: fetch, process, file away, send; exit 0
intake --config FILE status      per unit: current submission, state, counts vs allocation
intake --config FILE run         the scheduler: poll every N minutes until stopped
intake --config FILE health      database reachable and mailbox login works (exit 0/1)
intake --config FILE check       settings and campaign file are valid
intake --config FILE reprocess N put a quarantined or failed message back in the queue
intake --config FILE resend N    send an uncertain or refused mail again
intake --config FILE decide …    officers' decisions: accept, reject, extend, register, select
intake --config FILE audit …     the audit trail: verify its chain, export it
intake --config FILE digest      send today's digest to the Department (--preview: show it only)
intake --config FILE export F    write the consolidated workbook
intake --config FILE remind      send the reminders due now (--dry-run: only show them)
intake --config FILE draft to-trinh  the Department's Tờ trình draft (.docx)
intake --config FILE package     the forward package (.zip: workbook, Tờ trình, dossiers, manifest)
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import InterfaceError, OperationalError
from typer.core import TyperGroup

import scheduler
from cli import decide, logs
from cli import status as status_view
from cli.decide import audit_app, decide_app
from cli.loading import AtOption, fail, load_app, moment
from cli.logs import LogFormat
from cli.users import users_app
from domain.wording import format_vnd, outcome_label, status_label
from service import mailings, papers
from service.health import run_checks


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
    invoke_without_command=True,
    add_completion=False,
    no_args_is_help=True,
    help="Tiếp nhận hồ sơ đề nghị khen thưởng qua thư điện tử.",
)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", envvar="INTAKE_CONFIG", help="Tệp cấu hình TOML."),
    ] = Path("intake.toml"),
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="Ghi nhật ký chi tiết (-vv: cả của các thư viện)."
        ),
    ] = 0,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="text, hoặc json cho hệ thống thu nhật ký.")
    ] = LogFormat.TEXT,
    version: Annotated[
        bool, typer.Option("--version", help="In phiên bản rồi thoát.", is_eager=True)
    ] = False,
) -> None:
    if version:
        typer.echo(f"intake {metadata.version('sonv-intake')}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()
    logs.configure(verbose, log_format)
    os.umask(0o077)  # the database, stored files and written mail: readable by this user only
    ctx.obj = config


@app.command()
def poll(ctx: typer.Context) -> None:
    """Chạy một lượt: lấy thư mới, xử lý, phân loại thư, rồi gửi thư trả lời."""
    application = load_app(ctx, handles_mail=True)
    with logs.progress_on_terminal("Đang xử lý thư") as progress:
        report = application.poll(progress)
    if report.mailbox_busy:
        typer.echo("Một phiên bản khác đang lấy thư cùng lúc; lượt này xử lý cùng các thư đã lưu.")
    handled = ", ".join(f"{n} {outcome_label(k)}" for k, n in report.outcomes.items()) or "không có"
    typer.echo(f"Đã lấy {report.fetched} thư mới. Đã xử lý: {handled}.")
    if report.failed or report.quarantined:
        typer.echo(
            f"Lỗi khi xử lý: {report.failed} thư (sẽ thử lại), {report.quarantined} thư bị cách ly."
        )
    delivery = application.deliver()
    typer.echo(
        f"Đã gửi {delivery.sent} thư trả lời"
        + (f", {delivery.deferred} thư chờ gửi lại" if delivery.deferred else "")
        + (f", {delivery.failed} thư không gửi được" if delivery.failed else "")
        + "."
    )
    if delivery.unreachable:
        typer.echo(
            f"Máy chủ gửi thư không phản hồi ({delivery.unreachable}); các thư trả lời còn lại "
            "vẫn trong hàng đợi và sẽ được gửi khi máy chủ hoạt động trở lại."
        )
    if report.problems:
        raise fail("\n".join([*report.problems, "Lượt sau sẽ tự thử lại."]), code=1)


@app.command()
def run(ctx: typer.Context) -> None:
    """Chạy dịch vụ: xử lý thư, gửi bản tổng hợp và thư nhắc theo lịch, cho đến khi bị dừng."""
    application = load_app(ctx, handles_mail=True)
    if application.settings.desk.enabled:
        from desk.serve import serve_in_background  # the web stack only where it is served

        serve_in_background(application)
    scheduler.run_forever(application)


@app.command()
def web(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Địa chỉ lắng nghe (mặc định: desk.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Cổng (mặc định: desk.port).")] = None,
) -> None:
    """Chạy bàn làm việc trên web cho cán bộ Sở Nội vụ (đến khi bị dừng)."""
    application = load_app(ctx)
    desk = application.settings.desk
    typer.echo(f"Bàn làm việc: http://{host or desk.host}:{port or desk.port}/")
    from desk.serve import serve  # the web stack only where it is served

    serve(application, host, port)


app.add_typer(users_app, name="user")
app.add_typer(decide_app, name="decide")
app.add_typer(audit_app, name="audit")
# The two decisions operators use most, also at the top level (as before the desk had them).
app.command("reprocess")(decide.reprocess)
app.command("resend")(decide.resend)


@app.command()
def health(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON cho máy giám sát.")] = False,
) -> None:
    """Kiểm tra những gì dịch vụ cần: cơ sở dữ liệu, hộp thư, máy chủ gửi thư, lịch chạy (mã thoát 0 nếu ổn)."""
    checks = run_checks(load_app(ctx))
    healthy = all(c.ok for c in checks)
    if as_json:
        typer.echo(
            json.dumps({"ok": healthy, "checks": [asdict(c) for c in checks]}, ensure_ascii=False)
        )
    else:
        for c in checks:
            typer.echo(f"{'Ổn ' if c.ok else 'LỖI'}  {c.detail}")
    if not healthy:
        raise typer.Exit(1)


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
    warnings = []
    if c.allocation.illustrative:
        warnings.append(
            "Bảng phân bổ trong tệp chiến dịch vẫn là số liệu minh họa (illustrative = true): "
            "nhập bảng phân bổ thật trước khi nhận hồ sơ."
        )
    s = application.settings
    for where, section, env in (
        ("hộp thư", s.mailbox.imap if s.mailbox.imap and s.mailbox.imap.auth == "password" else None, "INTAKE_MAILBOX__IMAP__PASSWORD"),
        ("máy chủ gửi thư", s.outgoing.smtp if s.outgoing.smtp and s.outgoing.smtp.username else None, "INTAKE_OUTGOING__SMTP__PASSWORD"),
    ):  # fmt: skip
        if section is not None and section.password is None and section.password_file is None:
            warnings.append(f"Chưa có mật khẩu {where}: đặt {env} hoặc {env}_FILE.")
    for warning in warnings:
        typer.secho(f"Cảnh báo: {warning}", fg=typer.colors.YELLOW)
    typer.echo("Cấu hình hợp lệ." + (f" ({len(warnings)} cảnh báo)" if warnings else ""))


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON cho máy đọc.")] = False,
) -> None:
    """Tình hình nộp hồ sơ của từng đơn vị."""
    application = load_app(ctx)
    data = status_view.status_data(application)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(status_view.status_table(data, application.campaign))


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
        shown = mailings.preview_digest(
            application.engine, application.context, now, as_of=at is not None
        )
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
    if path.suffix.lower() != ".xlsx":
        raise fail(
            f'Bảng tổng hợp là tệp Excel: ghi vào một tệp có đuôi .xlsx (không phải "{path}").'
        )
    application = load_app(ctx)
    shown = mailings.preview_digest(
        application.engine, application.context, moment(application, at), as_of=at is not None
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(shown.workbook)
    totals = shown.view.quotas[0]
    typer.echo(
        f"Đã ghi {path}: {totals.collectives} tập thể, {totals.individuals} cá nhân "
        f"của {shown.view.accepted} đơn vị đã được tiếp nhận."
    )


@app.command()
def draft(
    ctx: typer.Context,
    paper: Annotated[str, typer.Argument(help="Giấy tờ cần soạn: to-trinh.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Tệp .docx sẽ ghi.")] = Path(
        "Du-thao-To-trinh.docx"
    ),
    at: AtOption = None,
) -> None:
    """Soạn dự thảo Tờ trình của Sở Nội vụ trình Chủ tịch UBND tỉnh (tệp Word)."""
    if paper != "to-trinh":
        raise fail(f'Chưa có mẫu "{paper}"; hiện có: to-trinh.')
    if output.suffix.lower() != ".docx":
        raise fail(f'Dự thảo là tệp Word: ghi vào một tệp có đuôi .docx (không phải "{output}").')
    application = load_app(ctx)
    drafted = papers.draft(
        application.engine, application.context, moment(application, at), as_of=at is not None
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(drafted.payload)
    typer.echo(
        f"Đã ghi {output}: {drafted.units_sent} đơn vị đã gửi, {drafted.units_accepted} hợp lệ; "
        f"dự toán {format_vnd(drafted.reward_total)}."
    )


@app.command()
def package(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Thư mục ghi gói (mặc định: storage.packages_dir)."),
    ] = None,
    at: AtOption = None,
) -> None:
    """Đóng gói hồ sơ trình: bảng tổng hợp, dự thảo Tờ trình, hồ sơ các đơn vị và danh mục."""
    application = load_app(ctx)
    written = papers.write_package(
        application.engine,
        application.context,
        moment(application, at),
        folder or application.settings.storage.packages_dir,
        as_of=at is not None,
    )
    typer.echo(
        f"Đã ghi {written.path}: hồ sơ của {written.units} đơn vị ({written.files} tệp), "
        "bảng tổng hợp, dự thảo Tờ trình và danh mục."
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
        due = mailings.reminders_due(
            application.engine, application.context, now, unit, as_of=at is not None
        )
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
