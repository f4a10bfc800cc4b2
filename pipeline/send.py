"""Transports that put one message on its way: SMTP (smtplib), or a folder of .eml files.

A transport classifies what went wrong: `TemporaryFailure` (4xx, a dropped connection: try later),
`PermanentFailure` (5xx: do not try again) and `UncertainDelivery` (the connection failed after
the end of the data: the server may have accepted it). Which mail to send, and recording what
happened, is `service.outbox`'s job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from config.settings import OutgoingSettings, SmtpSettings

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later."""


class ServerUnreachable(TemporaryFailure):
    """The server could not be reached, or went silent: nothing else will get through now
    either, so the delivery round ends here (the outbox's circuit breaker)."""


class PermanentFailure(Exception):
    """The server refused for good; do not try again."""


class UncertainDelivery(Exception):
    """The connection failed after the end of the data was sent: the server may have accepted
    the message. Sending again could deliver it twice, so it is not retried."""


# Called by a transport at the point of no return (just before the SMTP end-of-data), so the
# outbox can record "sending" first: a message interrupted after that point is never resent.
PointOfNoReturn = Callable[[], None]


class Transport(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def send(
        self,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        name: str,
        commit: PointOfNoReturn,
    ) -> None: ...


def _classify(err: Exception) -> Exception:
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in err.recipients.values()]
        permanent = bool(codes) and all(c >= 500 for c in codes)
        return (PermanentFailure if permanent else TemporaryFailure)(str(err.recipients))
    if isinstance(err, smtplib.SMTPResponseException):
        kind = PermanentFailure if err.smtp_code >= 500 else TemporaryFailure
        return kind(f"{err.smtp_code} {err.smtp_error!r}")
    return TemporaryFailure(f"{type(err).__name__}: {err}")


class SmtpTransport:
    """One SMTP session for a batch of messages; TLS verified unless configured "plain"."""

    def __init__(self, smtp: SmtpSettings, password: str | None) -> None:
        self.smtp = smtp
        self.password = password
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if s.security == "tls":
            conn = smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout_seconds, context=context
            )
        else:
            conn = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_seconds)
            if s.security == "starttls":
                conn.starttls(context=context)
        if s.username:
            conn.login(s.username, self.password or "")
        # The end-of-data marker goes out as a small write after the body: without NODELAY,
        # Nagle's algorithm and delayed ACKs hold it back ~40 ms per message.
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def _transaction(
        self,
        conn: smtplib.SMTP,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        commit: PointOfNoReturn,
    ) -> None:
        """MAIL, RCPT and DATA as smtplib's sendmail does, but with the end-of-data marker sent
        only after `commit`: RFC 1047's window for duplicates is then just the server's answer."""
        conn.ehlo_or_helo_if_needed()
        code, reply = conn.mail(envelope_from)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        refused = {}
        for rcpt in recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
        if len(refused) == len(recipients):
            conn.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = conn.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)  # CRLF line ends
        body = re.sub(rb"(?m)^\.", b"..", body)  # RFC 5321 dot-stuffing
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body)
        try:
            commit()
        except BaseException:
            # Not ours to send after all: dropping the connection before the end of the data
            # makes the server discard the message.
            self._drop()
            raise
        try:
            conn.send(b".\r\n")
            code, reply = conn.getreply()
        except (smtplib.SMTPException, OSError) as err:
            self._conn = None
            raise UncertainDelivery(f"{type(err).__name__}: {err}") from err
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def check(self) -> None:
        """Connect (and log in, when configured), then leave: for `intake health`."""
        try:
            conn = self._connect()
        except (smtplib.SMTPException, OSError) as err:
            raise _classify(err) from err
        with contextlib.suppress(smtplib.SMTPException, OSError):
            conn.quit()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send_once(
        self, envelope_from: str, recipients: list[str], data: bytes, commit: PointOfNoReturn
    ) -> None:
        reused = self._conn is not None
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._transaction(self._conn, envelope_from, recipients, data, commit)
        except (smtplib.SMTPException, OSError) as err:
            # SMTPException is an OSError too: only a socket error or a disconnect loses the line.
            lost = isinstance(err, smtplib.SMTPServerDisconnected) or not isinstance(
                err, smtplib.SMTPException
            )
            if lost:
                self._drop()  # reconnect on the next attempt
            if (lost and not reused) or isinstance(err, smtplib.SMTPConnectError):
                # Refused, timed out or dropped on a fresh connection: the server is away.
                raise ServerUnreachable(f"{type(err).__name__}: {err}") from err
            raise _classify(err) from err

    def send(
        self,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        name: str,
        commit: PointOfNoReturn,
    ) -> None:
        # A few quick tries ride out a 4xx answer or a kept-open connection the server dropped;
        # a server that cannot be reached is not waited for (`ServerUnreachable`).
        for attempt in Retrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.5, max=4),
            retry=retry_if_exception(
                lambda e: isinstance(e, TemporaryFailure) and not isinstance(e, ServerUnreachable)
            ),
            reraise=True,
        ):
            with attempt:
                self._send_once(envelope_from, recipients, data, commit)


class FileTransport:
    """Writes each message as `<name>.eml` into a folder, like Django's file e-mail backend."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def send(
        self,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        name: str,
        commit: PointOfNoReturn,
    ) -> None:
        target = self.directory / f"{name}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        try:
            commit()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)  # atomic: the file is there whole, or not at all


def open_transport(settings: OutgoingSettings, password: str | None) -> Transport:
    if settings.kind == "smtp":
        assert settings.smtp is not None
        return SmtpTransport(settings.smtp, password)
    assert settings.file_dir is not None
    return FileTransport(settings.file_dir)
