"""Real servers for the tests and the benchmark: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback
ports, started and stopped by the caller. Nothing here mocks a protocol."""

from __future__ import annotations

import asyncio
import contextlib
import email
import getpass
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from imapclient import IMAPClient

PASSWORD = "test-secret"


class _Service:
    """`with server:` starts it and stops it."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


class TokenIntrospection(_Service):
    """An OAuth2 token-introspection endpoint (RFC 7662) on loopback: a token in `tokens` is
    active for its user; any other is not. What Dovecot's oauth2 passdb asks in "post" mode."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.port = free_port()
        tokens = self.tokens

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                token = (form.get("token") or [""])[0]
                user = tokens.get(token)
                body = json.dumps({"active": True, "username": user} if user else {"active": False})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def start(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Dovecot(_Service):
    """A private Dovecot: any user name logs in with PASSWORD and gets a fresh Maildir; given an
    introspection URL, users may also log in with XOAUTH2 tokens it says are active."""

    def __init__(self, introspection_url: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.introspection_url = introspection_url

    def _oauth2(self) -> tuple[str, str]:
        """The mechanisms and passdb OAuth2 needs, when asked for."""
        if self.introspection_url is None:
            return "", ""
        conf = self.root / "oauth2.conf.ext"
        conf.write_text(
            f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
            "force_introspection = yes\n"
        )
        passdb = f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {conf}
}}
"""
        return " xoauth2 oauthbearer", passdb

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            # Dovecot refuses to run mail processes as root: use nobody, owning the mail tree.
            mail_user = pwd.getpwnam("nobody")
            internal, login = "dovecot", "dovenull"
            os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        else:
            mail_user = pwd.getpwnam(getpass.getuser())
            internal = login = mail_user.pw_name
        mechanisms, oauth2_passdb = self._oauth2()
        static_mechanisms = "\n  mechanisms = plain login" if oauth2_passdb else ""
        return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{mechanisms}
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
{oauth2_passdb}passdb {{
  driver = static{static_mechanisms}
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> Self:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.root.chmod(0o755)  # the mail user must reach its Maildir below this folder
        (self.root / "mail").mkdir(exist_ok=True)
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)
        return self

    def halt(self) -> None:
        """Stop the server and keep its mail: `start()` brings it back on the same port."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(
        self, user: str, raw: bytes, when: datetime | None = None, folder: str = "INBOX"
    ) -> None:
        with self.client(user) as client:
            client.append(folder, raw, msg_time=when)

    def folder_counts(self, user: str) -> dict[str, int]:
        with self.client(user) as client:
            return {
                name: int(client.folder_status(name, ["MESSAGES"])[b"MESSAGES"])
                for _, _, name in client.list_folders()
            }

    def flags(self, user: str, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return [tuple(v[b"FLAGS"]) for v in client.fetch(uids, ["FLAGS"]).values()]


@dataclass
class _Inbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    # Called with each accepted message, e.g. to play a recipient's auto-responder.
    on_message: Callable[[bytes], None] | None = None
    # Answers to give to the next messages instead of accepting them ("451 ...", "550 ...").
    refusals: list[str] = field(default_factory=list)
    # Seconds to wait before answering the end of data, as a slow or hung server does.
    stall_seconds: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        data = bytes(envelope.original_content or envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), data))
        if self.on_message is not None:
            self.on_message(data)
        return "250 OK"


class SmtpServer(_Service):
    """aiosmtpd on a loopback port, keeping every message it accepts."""

    def __init__(self, on_message: Callable[[bytes], None] | None = None) -> None:
        self.inbox = _Inbox(on_message=on_message)
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def received(self, recipient: str | None = None) -> list[EmailMessage]:
        result = []
        for _, rcpts, data in self.inbox.messages:
            if recipient is None or recipient.lower() in (r.lower() for r in rcpts):
                msg = email.message_from_bytes(data, policy=policy.default)
                assert isinstance(msg, EmailMessage)
                result.append(msg)
        return result

    def clear(self) -> None:
        self.inbox.messages.clear()


class TcpProxy(_Service):
    """A loopback port in front of a server (TCP, or a Unix socket such as PostgreSQL's) that
    breaks connections on purpose.

    `plan` decides the fate of each new connection in turn; once it is used up, connections pass.
    "refuse" closes the connection at once; an int lets that many bytes come from the server, then
    resets both sides, as a dropped line or a crashed server does. `cut_all()` resets every open
    connection now.
    """

    def __init__(self, target: tuple[str, int] | str, plan: list[str | int] | None = None) -> None:
        self.target = target
        self.plan = list(plan or [])
        self.port = free_port()
        self.connections = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._running = True

    def _upstream(self) -> socket.socket:
        if isinstance(self.target, str):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            return upstream
        return socket.create_connection(self.target)

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if sock.family != socket.AF_UNIX:  # linger 0: close with RST, not a polite FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the other pump, blocked reading this socket
        sock.close()

    def _pump(self, source: socket.socket, sink: socket.socket, budget: int | None) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if budget is not None:
                    if len(data) >= budget:
                        sink.sendall(data[:budget])
                        break
                    budget -= len(data)
                sink.sendall(data)
        except OSError:
            pass
        self._reset(source)
        self._reset(sink)

    def _serve(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                fate = self.plan.pop(0) if self.plan else "pass"
            if fate == "refuse":
                self._reset(client)
                continue
            try:
                upstream = self._upstream()
            except OSError:
                self._reset(client)
                continue
            with self._lock:
                self._open += [client, upstream]
            budget = fate if isinstance(fate, int) else None
            for source, sink, limit in ((client, upstream, None), (upstream, client, budget)):
                threading.Thread(target=self._pump, args=(source, sink, limit), daemon=True).start()

    def cut_all(self) -> None:
        with self._lock:
            opened, self._open = self._open, []
        for sock in opened:
            self._reset(sock)

    def start(self) -> Self:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._running = False
        self._listener.close()
        self.cut_all()
