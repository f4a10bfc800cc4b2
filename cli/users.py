"""`intake user …`: the desk's accounts, created, re-passworded and disabled by the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from sqlmodel import Session

from cli.loading import fail, load_app
from domain.kinds import DeskRole
from storage import users

users_app = typer.Typer(help="Tài khoản đăng nhập bàn làm việc.", no_args_is_help=True)


MIN_PASSWORD = 10


def _new_password(password: str | None) -> str:
    """The password given (INTAKE_NEW_PASSWORD, for scripts) or asked for twice, hidden."""
    value: str = password or typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    if len(value) < MIN_PASSWORD:
        raise fail(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    return value


def _change(
    ctx: typer.Context, change: Callable[[Session], object], missing: str, done: str
) -> None:
    with Session(load_app(ctx).engine) as session:
        try:
            change(session)
        except users.UserError:
            raise fail(missing) from None
        session.commit()
    typer.echo(done)


@users_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    role: Annotated[
        DeskRole, typer.Option(help="viewer: xem; officer: xử lý; admin: quản trị.")
    ] = DeskRole.VIEWER,
    password: Annotated[str | None, typer.Option(envvar="INTAKE_NEW_PASSWORD", hidden=True)] = None,
) -> None:
    """Tạo tài khoản (mật khẩu được hỏi, không hiện trên màn hình)."""
    secret = _new_password(password)
    _change(
        ctx,
        lambda session: users.add(session, username, secret, role),
        f"Đã có tài khoản {username}.",
        f"Đã tạo tài khoản {username} ({role.value}).",
    )


@users_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    password: Annotated[str | None, typer.Option(envvar="INTAKE_NEW_PASSWORD", hidden=True)] = None,
) -> None:
    """Đặt lại mật khẩu."""
    secret = _new_password(password)
    _change(
        ctx,
        lambda session: users.set_password(session, username, secret),
        f"Không có tài khoản {username}.",
        f"Đã đặt lại mật khẩu cho {username}.",
    )


@users_app.command("disable")
def user_disable(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="Tên đăng nhập.")]
) -> None:
    """Khóa tài khoản (không xóa: dấu vết vẫn còn)."""
    _change(
        ctx,
        lambda session: users.disable(session, username),
        f"Không có tài khoản {username}.",
        f"Đã khóa tài khoản {username}.",
    )
