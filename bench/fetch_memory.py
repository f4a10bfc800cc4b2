"""Peak memory of `intake poll` fetching one large message, streamed (the product) against the
whole-message fetch it replaced (`mailbox.stream_above_bytes` raised), in the same run.

    python -m bench.fetch_memory --megabytes 100

Each poll is a fresh process on a fresh mailbox and database; its peak RSS is read with
`wait4`. The ratio of the two peaks is the figure (absolute sizes vary with the machine).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.workload import run_intake, settings_for
from samples.factories import File, build_email
from tests.servers import Dovecot, SmtpServer


def scan(megabytes: int) -> bytes:
    payload = b"%PDF-1.4\n" + os.urandom(megabytes * 3 // 4 * 1024 * 1024)
    return build_email(
        sender="vanphong.snv@laichau.gov.vn",
        subject="Hồ sơ (bản quét)",
        files=[File("Ho so quet.pdf", payload, "application/pdf")],
    )


def peak_of_poll(
    dovecot: Dovecot, smtp: SmtpServer, raw: bytes, user: str, env: dict[str, str]
) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = settings_for(directory, dovecot, smtp, user)
        dovecot.append(user, raw)
        run = run_intake(config, "poll", env=env)
        return run.exit_code, run.peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    raw = scan(args.megabytes)
    print(f"message of {len(raw) / 1e6:.1f} MB")
    whole = {
        "INTAKE_MAILBOX__STREAM_ABOVE_BYTES": str(1024**3),
        "INTAKE_MAILBOX__FETCH_BATCH_BYTES": str(1024**3),
    }
    with Dovecot() as dovecot, SmtpServer() as smtp:
        for round_ in range(args.rounds):
            code_s, streamed = peak_of_poll(dovecot, smtp, raw, f"s{round_}", {})
            code_w, whole_peak = peak_of_poll(dovecot, smtp, raw, f"w{round_}", whole)
            print(
                f"round {round_ + 1}: streamed peak RSS {streamed:.0f} MB (exit {code_s}), "
                f"whole fetch {whole_peak:.0f} MB (exit {code_w}); "
                f"ratio {whole_peak / streamed:.1f}"
            )


if __name__ == "__main__":
    main()
