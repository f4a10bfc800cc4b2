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


def test_configuration_errors_are_one_message_naming_file_line_and_key(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    demo = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    campaign = f'campaign_file = "{ROOT / "config" / "campaigns" / "lai-chau-2021.toml"}"'
    cases = {
        "syntax": (campaign + '\n[mailbox\nkind = "imap"\n', "Sai cú pháp TOML ở dòng 2, cột 9"),
        "unsupported": (demo.replace("sqlite:///var/demo/intake.db", "mysql://x/y"), "Mục 'database.url' không hợp lệ: loại cơ sở dữ liệu \"mysql\" chưa được hỗ trợ"),
        "unreadable": (demo.replace("sqlite:///var/demo/intake.db", "not a url"), "Mục 'database.url' không hợp lệ: không đọc được địa chỉ cơ sở dữ liệu"),
        "unwritable": (demo.replace("sqlite:///var/demo/intake.db", f"sqlite:///{tmp_path}/a-file/intake.db"), "không ghi được"),
        "translated": (campaign + '\n[mailbox]\nkind = "pop3"\nbatch_sise = 5\n[outgoing]\nkind = "file"\nfile_dir = "x"\n', "phải là 'imap' hoặc 'maildir'"),
    }  # fmt: skip
    (tmp_path / "a-file").write_text("not a folder")
    for name, (text, expected) in cases.items():
        config = tmp_path / f"{name}.toml"
        config.write_text(
            text.replace('"config/campaigns/', f'"{ROOT}/config/campaigns/'), encoding="utf-8"
        )
        result = CliRunner().invoke(app, ["--config", str(config), "check"])
        assert result.exit_code == 2, (name, result.output)
        assert expected in result.output, (name, result.output)
        assert "Traceback" not in result.output and str(config) in result.output
        assert len(result.output.strip().splitlines()) <= 4, (name, result.output)


def test_check_warns_of_a_missing_password_and_an_illustrative_allocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli import app
    from tests.conftest import write_config

    config = write_config(
        tmp_path, imap_port=1, user="u", smtp_port=1, db_url=f"sqlite:///{tmp_path / 'x.db'}"
    )
    monkeypatch.delenv("INTAKE_MAILBOX__IMAP__PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["--config", str(config), "check"])
    assert result.exit_code == 0, result.output
    assert "Cảnh báo: Bảng phân bổ trong tệp chiến dịch vẫn là số liệu minh họa" in result.output
    assert "Cảnh báo: Chưa có mật khẩu hộp thư: đặt INTAKE_MAILBOX__IMAP__PASSWORD" in result.output


def test_the_settings_reference_is_current() -> None:
    from config.reference import reference

    documented = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert documented == reference(), "run: python -m config.reference > docs/settings.md"
