"""Mailboxes that accept no passwords (Microsoft 365, Google): `mailbox.imap.auth = "xoauth2"`
against Dovecot's oauth2 passdb, which asks a token-introspection server on loopback whether the
token is active. The token comes from a file or from a command run at every connection."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import vn, write_config
from tests.servers import Dovecot, SmtpServer, TokenIntrospection
from tests.test_intake_imap import SNV, snv_submission

pytestmark = pytest.mark.integration
USER = "pxdcq"


@pytest.fixture(scope="module")
def oauth() -> Iterator[tuple[Dovecot, TokenIntrospection]]:
    with TokenIntrospection() as tokens, Dovecot(introspection_url=tokens.url) as dovecot:
        yield dovecot, tokens


def configured(tmp_path: Path, dovecot: Dovecot, smtp: SmtpServer, auth: str) -> Path:
    config = write_config(
        tmp_path,
        imap_port=dovecot.port,
        user=USER,
        smtp_port=smtp.port,
        db_url=f"sqlite:///{tmp_path / 'intake.db'}",
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("timeout_seconds = 10\n", f"timeout_seconds = 10\n{auth}\n", 1),
        encoding="utf-8",
    )
    return config


def poll(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config), "poll"])
    return result.exit_code, result.output


def test_a_token_from_a_file_or_a_command_logs_in(
    oauth: tuple[Dovecot, TokenIntrospection],
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dovecot, tokens = oauth
    monkeypatch.delenv("INTAKE_MAILBOX__IMAP__PASSWORD", raising=False)
    smtp_server.clear()
    tokens.tokens["ya29.token-tu-tep"] = USER
    (tmp_path / "token").write_text("ya29.token-tu-tep\n")
    dovecot.append(USER, snv_submission(), vn(20, 9))
    config = configured(
        tmp_path, dovecot, smtp_server, f'auth = "xoauth2"\ntoken_file = "{tmp_path / "token"}"'
    )
    code, output = poll(config)
    assert code == 0, output
    assert "Đã lấy 1 thư mới" in output
    assert len(smtp_server.received(SNV)) == 1

    tokens.tokens["ya29.token-tu-lenh"] = USER
    helper = tmp_path / "lay-token.py"
    helper.write_text("print('ya29.token-tu-lenh')\n")
    (tmp_path / "cmd").mkdir()
    config = configured(
        tmp_path / "cmd",
        dovecot,
        smtp_server,
        f'auth = "xoauth2"\ntoken_command = "{sys.executable} {helper}"',
    )
    code, output = poll(config)
    assert code == 0, output


def test_an_inactive_token_is_refused_with_a_clear_message(
    oauth: tuple[Dovecot, TokenIntrospection],
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dovecot, _ = oauth
    monkeypatch.delenv("INTAKE_MAILBOX__IMAP__PASSWORD", raising=False)
    (tmp_path / "token").write_text("het-han")
    config = configured(
        tmp_path, dovecot, smtp_server, f'auth = "xoauth2"\ntoken_file = "{tmp_path / "token"}"'
    )
    code, output = poll(config)
    assert code != 0
    assert "mã truy cập OAuth2" in output, output
    (tmp_path / "bad").mkdir()
    broken = configured(
        tmp_path / "bad",
        dovecot,
        smtp_server,
        'auth = "xoauth2"\ntoken_command = "/khong/co/lenh-nay"',
    )
    code, output = poll(broken)
    assert code != 0 and "token_command" in output, output
