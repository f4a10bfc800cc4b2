"""What every command does first: read the settings and the campaign, open the database, and say
in one Vietnamese line what is wrong when it cannot."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from config.campaign import CampaignError, load_campaign
from config.settings import SettingsError, load_settings
from domain.wording import MOMENT_FORMS, parse_moment
from pipeline.signatures import load_checker
from service.runtime import App
from storage.db import open_database

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
    parsed = parse_moment(at, application.campaign.tz)
    if parsed is None:
        raise fail(f'Thời điểm "{at}" không hợp lệ; {MOMENT_FORMS}.')
    return parsed


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def load_app(ctx: typer.Context, handles_mail: bool = False) -> App:
    return load_app_from(ctx.obj, handles_mail)


def load_app_from(path: Path, handles_mail: bool = False) -> App:
    try:
        settings = load_settings(path)
        campaign = load_campaign(settings.campaign_file)
    except FileNotFoundError as err:
        raise fail(str(err)) from None
    except (SettingsError, CampaignError) as err:
        raise fail(str(err)) from None
    database = settings.database
    try:
        engine = open_database(database.url, database.lock_timeout_seconds)
    except OSError as err:  # its folder cannot be made or written (permissions, a file there…)
        raise fail(
            f"Không tạo được cơ sở dữ liệu {make_url(database.url).database}: thư mục "
            f"{err.filename} không ghi được ({err.strerror}; mục database.url trong {path}). "
            "Chọn thư mục khác hoặc cấp quyền ghi cho người dùng chạy dịch vụ."
        ) from None
    except OperationalError as err:
        if make_url(database.url).get_backend_name() != "sqlite":
            raise  # a server that does not answer: the commands say so (exit 1)
        raise fail(
            f"Không mở được cơ sở dữ liệu {make_url(database.url).database} (mục database.url "
            f"trong {path}): {err.orig}. Kiểm tra thư mục có ghi được và tệp không bị hỏng."
        ) from None
    application = App(settings, campaign, engine)
    try:
        application.context.trust_roots  # noqa: B018  (read now: a bad file is told at start)
    except (OSError, ValueError, TypeError) as err:
        raise fail(
            f"Không đọc được chứng thư gốc trong signatures.trust_roots ({err}). Mỗi tệp phải "
            "là chứng thư số dạng PEM hoặc DER của tổ chức chứng thực."
        ) from None
    if handles_mail:
        load_checker()  # half a second, paid before "ready" rather than by the first message
    # The crash harness measures its kill points from this line.
    logging.getLogger(__name__).info("ready: campaign %s, database migrated", campaign.code)
    return application
