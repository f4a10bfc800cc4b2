"""Deployment settings: where the mailbox, SMTP server, database and files are.

Read from a TOML file and then from the environment (`INTAKE_…`, nested with `__`, e.g.
`INTAKE_MAILBOX__IMAP__HOST`), the environment winning. Passwords come only from the environment or
a secrets file (`INTAKE_MAILBOX__IMAP__PASSWORD_FILE`, as Docker and systemd provide them); the TOML file
never needs one. Connections use TLS with verified certificates unless `security = "plain"` is
written explicitly (loopback test servers).
"""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    DirectoryPath,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.errors import ConfigurationError, describe_toml_error, describe_validation_error

Security = Literal["tls", "starttls", "plain"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WithPassword(_Section):
    password: SecretStr | None = None
    password_file: Path | None = None

    def secret(self) -> str | None:
        """The password from the environment, or read from the secrets file."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return None


class ImapSettings(_WithPassword):
    host: str
    port: int | None = None
    security: Security = "tls"
    username: str
    timeout_seconds: float = 60.0
    # A refused or dropped connection is retried within the poll, waiting 1, 2, 4… times this.
    reconnect_attempts: int = Field(default=4, ge=1)
    reconnect_wait_seconds: float = Field(default=2.0, ge=0)
    # `intake run` waits in IMAP IDLE (RFC 2177) on the folder and polls as soon as mail arrives;
    # the scheduled poll stays as the safety net. Off, or a server without IDLE: polling only.
    idle: bool = True
    # "xoauth2" for mailboxes that accept no passwords (Microsoft 365, Google): the access token
    # is read from `token_file` or printed by `token_command` (run at every connection, so a
    # helper that refreshes tokens keeps them fresh).
    auth: Literal["password", "xoauth2"] = "password"
    token_file: Path | None = None
    token_command: str | None = None

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @model_validator(mode="after")
    def _token_source(self) -> ImapSettings:
        if self.auth == "xoauth2" and not (self.token_file or self.token_command):
            raise ValueError(
                "mailbox.imap.auth = 'xoauth2' needs mailbox.imap.token_file or token_command"
            )
        return self

    def credential(self) -> str | None:
        """The password, or for XOAUTH2 the token in `token_file`; None when `token_command`
        gives it (run by the mailbox at each connection, where a failure is a mailbox problem)."""
        if self.auth == "password":
            return self.secret()
        if self.token_file is not None:
            return self.token_file.read_text(encoding="utf-8").strip()
        return None


class MaildirSettings(_Section):
    path: Path


class MailboxSettings(_Section):
    """Which mailbox is polled and what is done with a message once handled."""

    kind: Literal["imap", "maildir"] = "imap"
    imap: ImapSettings | None = None
    maildir: MaildirSettings | None = None
    folder: str = "INBOX"
    # "move" puts handled mail into the folders below; "flag" leaves it in place with a keyword.
    post_action: Literal["move", "flag"] = "move"
    processed_folder: str = "Processed"
    rejected_folder: str = "Rejected"
    batch_size: int = Field(default=20, ge=1, le=500)
    # Treat a registered address as forged when the receiving server's Authentication-Results
    # says DKIM or DMARC failed (only when that header is present).
    check_authentication_results: bool = True
    max_message_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    # A fetch batch holds at most this many bytes; a message larger than `stream_above_bytes` is
    # streamed to the file store in parts instead, so no fetch holds a large message in memory.
    fetch_batch_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    stream_above_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _kind_has_its_section(self) -> MailboxSettings:
        if self.kind == "imap" and self.imap is None:
            raise ValueError("mailbox.kind = 'imap' needs a [mailbox.imap] section")
        if self.kind == "maildir" and self.maildir is None:
            raise ValueError("mailbox.kind = 'maildir' needs a [mailbox.maildir] section")
        return self


class SmtpSettings(_WithPassword):
    host: str
    port: int | None = None
    security: Security = "starttls"
    username: str | None = None
    timeout_seconds: float = 60.0

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "plain": 25}[self.security]


class OutgoingSettings(_Section):
    """How replies leave: over SMTP, or written as .eml files into a folder (demo, dry runs)."""

    kind: Literal["smtp", "file"] = "smtp"
    smtp: SmtpSettings | None = None
    file_dir: Path | None = None
    from_name: str = "Sở Nội vụ – Phòng Xây dựng chính quyền"
    max_attempts: int = Field(default=8, ge=1)
    max_replies_per_sender_per_day: int = Field(default=20, ge=1)
    # Replies to addresses no unit registered ("how to submit"), all senders together: forged
    # senders must not turn the Department's mailbox into a source of backscatter.
    max_unregistered_replies_per_hour: int = Field(default=10, ge=0)
    max_unregistered_replies_per_day: int = Field(default=30, ge=0)
    # After the SMTP server times out or refuses a connection, no delivery is tried for this
    # long (doubling while it stays away, up to 32 times): intake goes on meanwhile.
    breaker_seconds: float = Field(default=30, gt=0)
    # A folder of the Department's own wording: a file here named like a built-in template
    # (`pipeline/templates`, e.g. submission_reply.txt.j2) is used instead of it; no rebuild.
    templates_dir: DirectoryPath | None = None

    @model_validator(mode="after")
    def _kind_has_its_section(self) -> OutgoingSettings:
        if self.kind == "smtp" and self.smtp is None:
            raise ValueError("outgoing.kind = 'smtp' needs an [outgoing.smtp] section")
        if self.kind == "file" and self.file_dir is None:
            raise ValueError("outgoing.kind = 'file' needs outgoing.file_dir")
        return self


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/intake.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError:
            raise ValueError(
                'không đọc được địa chỉ cơ sở dữ liệu; dạng đúng: "sqlite:///var/intake.db" hoặc '
                '"postgresql+psycopg://người-dùng@máy/tên-csdl"'
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                f'loại cơ sở dữ liệu "{backend}" chưa được hỗ trợ (chỉ sqlite, postgresql)'
            )
        return url

    # How long to wait for a lock another program holds before the cycle gives up (and the next
    # one tries again).
    lock_timeout_seconds: float = Field(default=30, gt=0)


class StorageSettings(_Section):
    # Attachments are kept here, content-addressed; raw messages are kept in the database.
    files_dir: Path = Path("var/files")
    # The forward packages (workbook, Tờ trình draft, units' dossiers, manifest) are written here.
    packages_dir: Path = Path("var/packages")


class SignatureSettings(_Section):
    # CA certificates (PEM or DER files) a signature on a unit's PDF must chain to, e.g. Ban Cơ
    # yếu Chính phủ's root and intermediates. None are bundled: the operator provides them.
    trust_roots: list[FilePath] = []


class ScheduleSettings(_Section):
    poll_minutes: float = Field(default=5, gt=0)
    # The outbox is delivered by its own job, so a slow SMTP server never holds up intake.
    deliver_seconds: float = Field(default=20, gt=0)
    max_processing_attempts: int = Field(default=3, ge=1)
    # The daily digest, at this time of day in the campaign's time zone.
    digest_at: time = time(17, 0)
    # How often due reminders are looked for (each is sent once whatever this is).
    reminder_check_minutes: float = Field(default=30, gt=0)


class DeskSettings(_Section):
    """The officers' web desk (`intake web`, or inside `intake run` when `enabled`)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Signs the session cookies; from INTAKE_DESK__SECRET_KEY (or …_FILE). Without one, a random
    # key is made at start, and officers log in again after each restart.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    # Behind a TLS proxy: cookies are then sent over HTTPS only.
    https_only: bool = False

    def secret(self) -> str | None:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.secret_key_file is not None:
            return self.secret_key_file.read_text(encoding="utf-8").strip()
        return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_nested_delimiter="__", extra="forbid"
    )

    campaign_file: Path
    mailbox: MailboxSettings
    outgoing: OutgoingSettings
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    signatures: SignatureSettings = SignatureSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    desk: DeskSettings = DeskSettings()


class SettingsError(ConfigurationError):
    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("cấu hình", source, problems)


def load_settings(path: Path) -> Settings:
    """Settings from `path` overlaid by the environment; `SettingsError` says what is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"Không tìm thấy tệp cấu hình {path}")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(str(path), [describe_toml_error(err)]) from None
    except UnicodeDecodeError:
        raise SettingsError(str(path), ["Tệp không phải văn bản UTF-8."]) from None
    try:
        return _load(path)
    except ValidationError as err:
        raise SettingsError(str(path), describe_validation_error(err)) from None


def _load(path: Path) -> Settings:

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=path)
            return (init_settings, env_settings, toml)

    return Settings.model_validate(_FromFile().model_dump())
