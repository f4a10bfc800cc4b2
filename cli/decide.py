"""`intake decide …` and `intake audit …`: the officers' decisions for the operator (the same
calls and audit rows as the desk's buttons), and the audit trail checked and exported."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from cli.loading import fail, load_app
from domain.kinds import NomineeKind
from pipeline.audit_export import audit_csv, audit_workbook
from service import decisions, selection
from service.decisions import Decided, DecisionRefused
from service.outbox import DeliveryReport
from service.runtime import App
from storage import audit

decide_app = typer.Typer(
    help="Quyết định của cán bộ (ghi vào nhật ký, báo cho đơn vị khi cần).", no_args_is_help=True
)
audit_app = typer.Typer(help="Nhật ký quyết định và xử lý.", no_args_is_help=True)

ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Lý do (bắt buộc).")]
ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Người quyết định ghi vào nhật ký (mặc định: người dùng máy)."),
]


def _decide(
    ctx: typer.Context, actor: str | None, act: Callable[[App, str, datetime], Decided]
) -> tuple[Decided, DeliveryReport]:
    application = load_app(ctx)
    who = decisions.operator(actor or getpass.getuser())
    try:
        decided = act(application, who, datetime.now(UTC))
    except DecisionRefused as err:
        raise fail(str(err)) from None
    # The notice, the answer to mail handled again, or the mail to resend: out at once.
    return decided, application.deliver()


def _done(decided: Decided, what: str) -> None:
    told = f" Thư báo cho đơn vị: số {decided.mail_id}." if decided.mail_id else ""
    typer.echo(f"{what} (nhật ký dòng {decided.audit_seq}).{told}")


UnitArgument = Annotated[str, typer.Argument(help="Mã đơn vị (hồ sơ hiện hành của đơn vị).")]
VersionOption = Annotated[
    int | None,
    typer.Option("--version", help="Chỉ khi hồ sơ hiện hành vẫn là lần gửi này (an toàn hơn)."),
]


@decide_app.command("accept")
def accept(
    ctx: typer.Context,
    unit: UnitArgument,
    reason: ReasonOption,
    waive: Annotated[
        list[str] | None,
        typer.Option("--waive", help="Mã lỗi được bỏ qua (lặp lại cho từng mã, hoặc ALL)."),
    ] = None,
    version: VersionOption = None,
    actor: ActorOption = None,
) -> None:
    """Tiếp nhận hồ sơ hiện hành của một đơn vị dù có lỗi, chấp thuận bỏ qua các lỗi đã nêu."""

    def act(application: App, who: str, now: datetime) -> Decided:
        engine = application.engine
        submission = decisions.current_submission_id(engine, application.context, unit, version)
        codes = set(waive or [])
        ids = decisions.open_error_ids(engine, submission, codes, all_codes="ALL" in codes)
        return decisions.accept_despite_findings(
            engine, application.context, who, submission, ids, reason, now
        )

    _done(_decide(ctx, actor, act)[0], f"Đã tiếp nhận hồ sơ của đơn vị {unit}")


@decide_app.command("reject")
def reject(
    ctx: typer.Context,
    unit: UnitArgument,
    reason: ReasonOption,
    version: VersionOption = None,
    actor: ActorOption = None,
) -> None:
    """Không tiếp nhận hồ sơ hiện hành (đã tiếp nhận) của một đơn vị; lý do là điều cần sửa."""

    def act(application: App, who: str, now: datetime) -> Decided:
        submission = decisions.current_submission_id(
            application.engine, application.context, unit, version
        )
        return decisions.reject(
            application.engine, application.context, who, submission, reason, now
        )

    _done(_decide(ctx, actor, act)[0], f"Đã chuyển hồ sơ của đơn vị {unit} sang chưa tiếp nhận")


@decide_app.command("extend")
def extend(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(help="Mã đơn vị.")],
    until: Annotated[
        str, typer.Option("--until", help='Hạn mới, hết phút này: "27/05/2021 17:00".')
    ],
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Gia hạn nộp hồ sơ cho một đơn vị."""

    def act(application: App, who: str, now: datetime) -> Decided:
        last_minute = decisions.moment(until, application.campaign)
        return decisions.extend_deadline(
            application.engine, application.context, who, unit, last_minute, reason, now
        )

    _done(_decide(ctx, actor, act)[0], f"Đã gia hạn cho đơn vị {unit} đến {until}")


@decide_app.command("register")
def register(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Địa chỉ thư của đơn vị.")],
    unit: Annotated[str, typer.Option("--unit", "-u", help="Mã đơn vị.")],
    reason: ReasonOption,
    message: Annotated[
        int | None,
        typer.Option("--message", "-m", help="Xử lý lại thư đến số này (từ địa chỉ đó)."),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Đăng ký một địa chỉ gửi cho đơn vị, và xử lý lại thư đã gửi từ địa chỉ đó."""
    decided, _ = _decide(
        ctx,
        actor,
        lambda a, who, now: decisions.register_sender(
            a.engine, a.context, who, unit, address, reason, now, message
        ),
    )
    _done(
        decided,
        f"Đã đăng ký {address} cho đơn vị {unit}"
        + (f"; thư số {message} đã được xử lý lại" if message else ""),
    )


@decide_app.command("reprocess")
def reprocess(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="Số thứ tự thư (xem `intake status`).")],
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Lý do.")
    ] = "Người vận hành yêu cầu xử lý lại",
    actor: ActorOption = None,
) -> None:
    """Đưa một thư bị cách ly hoặc bị lỗi trở lại hàng đợi xử lý."""
    _decide(
        ctx,
        actor,
        lambda a, who, now: decisions.reprocess(a.engine, a.context, who, message_id, reason, now),
    )
    typer.echo(f"Thư số {message_id} sẽ được xử lý lại ở lượt tiếp theo.")


@decide_app.command("resend")
def resend(
    ctx: typer.Context,
    mail_id: Annotated[int, typer.Argument(help="Số thứ tự thư gửi đi (xem `intake status`).")],
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Lý do.")
    ] = "Người vận hành yêu cầu gửi lại",
    actor: ActorOption = None,
) -> None:
    """Gửi lại một thư không rõ đã đến nơi chưa, hoặc đã bị máy chủ từ chối."""
    _, report = _decide(
        ctx,
        actor,
        lambda a, who, now: decisions.resend(a.engine, a.context, who, mail_id, reason, now),
    )
    typer.echo(
        f"Đã gửi lại thư số {mail_id}." if report.sent else f"Thư số {mail_id} đã vào hàng đợi gửi."
    )


@decide_app.command("select")
def select(
    ctx: typer.Context,
    reason: ReasonOption,
    pick: Annotated[
        list[str] | None,
        typer.Option(
            "--pick",
            "-p",
            help='"MÃ ĐƠN VỊ/tap-the|ca-nhan/Tên" cho từng người, tập thể được chọn (lặp lại).',
        ),
    ] = None,
    award: Annotated[str, typer.Option("--award", help="Mã hình thức khen thưởng.")] = "pm",
    actor: ActorOption = None,
) -> None:
    """Lựa chọn tập thể, cá nhân trình khen thưởng theo chỉ tiêu toàn tỉnh (Thủ tướng: 3 + 3)."""
    kinds = {"tap-the": NomineeKind.COLLECTIVE, "ca-nhan": NomineeKind.INDIVIDUAL}
    picks = []
    for item in pick or []:
        unit, _, rest = item.partition("/")
        kind, _, name = rest.partition("/")
        if kind not in kinds or not unit or not name:
            raise fail(f'"{item}" không đúng dạng "MÃ ĐƠN VỊ/tap-the|ca-nhan/Tên".')
        picks.append((unit, kinds[kind], name))
    _done(
        _decide(
            ctx,
            actor,
            lambda a, who, now: selection.select_nominees(
                a.engine, a.context, who, award, picks, reason, now
            ),
        )[0],
        f"Đã lưu lựa chọn {len(picks)} trường hợp",
    )


@audit_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Kiểm tra nhật ký chưa bị sửa, xóa hay cắt bớt (mã thoát 0 nếu nguyên vẹn)."""
    application = load_app(ctx)
    with Session(application.engine) as session:
        report = audit.verify(session)
    problems = {
        "changed": "nội dung đã bị sửa (mã băm không khớp)",
        "missing": "đã bị xóa (thiếu số thứ tự)",
        "relinked": "không nối tiếp dòng trước (dòng trước bị sửa hoặc có dòng chèn thêm)",
        "head": "phần cuối nhật ký đã bị cắt hoặc thay (không khớp dòng cuối đã ghi)",
    }
    if report.intact:
        typer.echo(
            f"Nhật ký nguyên vẹn: {report.rows} dòng, dòng cuối số {report.head_seq}, "
            f"mã {report.head_hash[:16]}…"
        )
        return
    typer.secho(f"Nhật ký KHÔNG nguyên vẹn ({report.rows} dòng đọc được):", fg=typer.colors.RED)
    for b in report.breaks:
        typer.echo(f"  dòng {b.seq}: {problems[b.problem]}")
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Tệp .csv hoặc .xlsx sẽ ghi.")],
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Chỉ một đơn vị.")] = None,
) -> None:
    """Ghi nhật ký ra tệp CSV hoặc Excel."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise fail(f'Ghi nhật ký vào tệp .csv hoặc .xlsx (không phải "{path}").')
    application = load_app(ctx)
    with Session(application.engine) as session:
        rows = audit.rows(session, unit)
    tz = application.campaign.tz
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audit_csv(rows, tz) if suffix == ".csv" else audit_workbook(rows, tz))
    typer.echo(f"Đã ghi {len(rows)} dòng nhật ký vào {path}.")
