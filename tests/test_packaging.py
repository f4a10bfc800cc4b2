"""The built wheel, not only the editable install, carries everything the program needs (the
templates, the migrations, the sample campaign, the desk's files): installed into a clean
virtual environment, it runs a poll on the demo Maildir from another folder."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from samples.demo_mailbox import write_maildir
from tests.conftest import CAMPAIGN_FILE, ROOT, Servers, write_maildir_config

pytestmark = pytest.mark.integration


def test_the_wheel_installed_elsewhere_runs_a_poll_on_the_demo_mailbox(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("sonv_intake-*.whl")
    env_dir = tmp_path / "clean"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    campaign = subprocess.run(
        [str(python), "-c", "import config, pathlib; print(pathlib.Path(config.__file__).parent / 'campaigns' / 'lai-chau-2021.toml')"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert "site-packages" in campaign and Path(campaign).is_file()
    work = tmp_path / "elsewhere"
    write_maildir(work / "mailbox")
    config = write_maildir_config(work, campaign)
    intake = env_dir / "bin" / "intake"
    version = subprocess.run([str(intake), "--version"], capture_output=True, text=True, cwd=work)
    assert version.stdout.startswith("intake "), version.stderr
    poll = subprocess.run(
        [str(intake), "--config", str(config), "poll"], capture_output=True, text=True, cwd=work
    )
    assert poll.returncode == 0, poll.stderr[-2000:]
    assert "Đã gửi 10 thư trả lời" in poll.stdout
    assert len(list((work / "outbox").glob("*.eml"))) == 10


def test_the_lock_installs_cleanly_and_runs_against_the_compose_settings(
    servers: Servers, tmp_path: Path, fresh_postgres: str
) -> None:
    """No container engine here: what the image does is done by hand. The lock installs into a
    clean virtualenv (with its hashes), the project on top without resolving again, and the
    command checks the compose file's settings against local servers (hosts overridden)."""
    from tests.servers import PASSWORD

    env_dir = tmp_path / "image"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    locked = subprocess.run(
        [*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")],
        capture_output=True,
        text=True,
    )
    assert locked.returncode == 0, locked.stderr[-2000:]
    project = subprocess.run([*pip, "--no-deps", str(ROOT)], capture_output=True, text=True)
    assert project.returncode == 0, project.stderr[-2000:]
    secret = tmp_path / "secret"
    secret.write_text(PASSWORD)
    env = {
        "PATH": "/usr/bin:/bin",
        "INTAKE_CAMPAIGN_FILE": str(CAMPAIGN_FILE),
        "INTAKE_DATABASE__URL": fresh_postgres,
        "INTAKE_MAILBOX__IMAP__HOST": "127.0.0.1",
        "INTAKE_MAILBOX__IMAP__PORT": str(servers.dovecot.port),
        "INTAKE_MAILBOX__IMAP__SECURITY": "plain",
        "INTAKE_MAILBOX__IMAP__USERNAME": servers.user,
        "INTAKE_MAILBOX__IMAP__PASSWORD_FILE": str(secret),
        "INTAKE_OUTGOING__SMTP__HOST": "127.0.0.1",
        "INTAKE_OUTGOING__SMTP__PORT": str(servers.smtp.port),
        "INTAKE_OUTGOING__SMTP__SECURITY": "plain",
        "INTAKE_OUTGOING__SMTP__USERNAME": "",
        "INTAKE_OUTGOING__SMTP__PASSWORD_FILE": str(secret),
        "INTAKE_STORAGE__FILES_DIR": str(tmp_path / "files"),
        "INTAKE_DESK__SECRET_KEY_FILE": str(secret),
    }
    intake = str(env_dir / "bin" / "intake")
    for command in ("check", "health"):
        done = subprocess.run(
            [intake, "--config", str(ROOT / "deploy" / "intake.toml"), command],
            capture_output=True, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, (command, done.stdout, done.stderr[-1500:])
