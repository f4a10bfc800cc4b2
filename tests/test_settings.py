from pathlib import Path

import pytest

from config.settings import load_settings
from tests.conftest import ROOT


def test_environment_overrides_the_file_and_secrets_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "imap-password"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__PASSWORD_FILE", str(secret))
    monkeypatch.setenv("INTAKE_DATABASE__URL", "sqlite:///elsewhere.db")
    settings = load_settings(ROOT / "config" / "example.toml")
    assert settings.database.url == "sqlite:///elsewhere.db"
    assert settings.mailbox.imap is not None
    assert settings.mailbox.imap.host == "mail.laichau.gov.vn"  # the rest of the section is kept
    assert settings.mailbox.imap.secret() == "s3cret"
    assert settings.mailbox.imap.security == "tls" and settings.mailbox.imap.effective_port == 993
    assert settings.outgoing.smtp is not None and settings.outgoing.smtp.effective_port == 587


def test_a_password_from_the_environment_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_OUTGOING__SMTP__PASSWORD", "hunter2")
    settings = load_settings(ROOT / "config" / "example.toml")
    assert settings.outgoing.smtp is not None
    assert settings.outgoing.smtp.secret() == "hunter2"
    assert "hunter2" not in repr(settings)


def test_a_mailbox_kind_needs_its_section(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        'campaign_file = "x.toml"\n[mailbox]\nkind = "imap"\n[outgoing]\nkind = "file"\nfile_dir = "out"\n'
    )
    with pytest.raises(ValueError, match=r"needs a \[mailbox\.imap\] section"):
        load_settings(config)
