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
from tests.conftest import ROOT

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
    config = work / "intake.toml"
    config.write_text(
        f"""campaign_file = "{campaign}"
[mailbox]
kind = "maildir"
maildir = {{ path = "{work / "mailbox"}" }}
[outgoing]
kind = "file"
file_dir = "{work / "outbox"}"
[database]
url = "sqlite:///{work / "intake.db"}"
[storage]
files_dir = "{work / "files"}"
""",
        encoding="utf-8",
    )
    intake = env_dir / "bin" / "intake"
    version = subprocess.run([str(intake), "--version"], capture_output=True, text=True, cwd=work)
    assert version.stdout.startswith("intake "), version.stderr
    poll = subprocess.run(
        [str(intake), "--config", str(config), "poll"], capture_output=True, text=True, cwd=work
    )
    assert poll.returncode == 0, poll.stderr[-2000:]
    assert "Đã gửi 10 thư trả lời" in poll.stdout
    assert len(list((work / "outbox").glob("*.eml"))) == 10
