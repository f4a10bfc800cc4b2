"""The Department's real mailbox over IMAP (imapclient).

New mail is found by UID above the last one seen under the folder's UIDVALIDITY; sizes come
first (RFC822.SIZE), bodies are fetched with BODY.PEEK so nothing is marked read, in batches
bounded by count and bytes, and a message over `mailbox.stream_above_bytes` is streamed in parts
into the file store. Handled mail is moved or flagged, never deleted.
"""

from __future__ import annotations

import contextlib
import shlex
import ssl
import subprocess
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import SocketTimeout

from config.settings import ImapSettings, MailboxSettings
from pipeline.mailbox import (
    CHUNK_BYTES,
    HEAD_BYTES,
    MAX_FETCH_TRIES,
    Cursor,
    Fetched,
    FetchedMessage,
    FetchTries,
    MailboxUnavailable,
    MessageRef,
    Spool,
    Unfetchable,
    size_bounded_batches,
)

# Messages whose sizes one FETCH asks for (the fetch batches are cut from them by size).
_SIZES_PER_COMMAND = 1000


def _aware(moment: object) -> datetime | None:
    """imapclient gives INTERNALDATE as a naive local time unless asked otherwise."""
    if not isinstance(moment, datetime):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.astimezone().astimezone(UTC)


class ImapMailbox:
    def __init__(self, settings: MailboxSettings, imap: ImapSettings, password: str | None) -> None:
        self.settings = settings
        self.imap = imap
        self.password = password
        self.source = f"imap://{imap.username}@{imap.host}:{imap.effective_port}/{settings.folder}"
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._known_folders: set[str] = set()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        imap = self.imap
        where = f"{imap.host}:{imap.effective_port}"
        context = ssl.create_default_context()
        timeout = SocketTimeout(connect=imap.timeout_seconds, read=imap.timeout_seconds)
        try:
            client = IMAPClient(
                imap.host,
                port=imap.effective_port,
                ssl=imap.security == "tls",
                ssl_context=context if imap.security == "tls" else None,
                timeout=timeout,
            )
        except (OSError, IMAPClientError) as err:
            raise MailboxUnavailable(
                f"không kết nối được máy chủ thư {where}", retry=True, cause=err
            ) from err
        client.normalise_times = False  # keep INTERNALDATE's zone instead of host-local time
        try:
            with self._connection_guard():
                if imap.security == "starttls":
                    client.starttls(context)
                try:
                    if imap.auth == "xoauth2":
                        client.oauth2_login(imap.username, self.password or self._token())
                    else:
                        client.login(imap.username, self.password or "")
                except LoginError as err:
                    what = (
                        "mã truy cập OAuth2 (mailbox.imap.token_file hoặc token_command)"
                        if imap.auth == "xoauth2"
                        else "tên đăng nhập và mật khẩu"
                    )
                    raise MailboxUnavailable(
                        f"máy chủ thư {where} từ chối đăng nhập tài khoản {imap.username}: "
                        f"kiểm tra {what}",
                        retry=False,
                        cause=err,
                    ) from err
                try:
                    selected = client.select_folder(self.settings.folder)
                except IMAPClientAbortError:
                    raise
                except IMAPClientError as err:
                    raise MailboxUnavailable(
                        f'hộp thư không có thư mục "{self.settings.folder}": '
                        "kiểm tra mục mailbox.folder trong tệp cấu hình",
                        retry=False,
                        cause=err,
                    ) from err
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()  # a half-open session must not linger on the server
            raise
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        self._client = client

    @contextlib.contextmanager
    def _connection_guard(self) -> Iterator[None]:
        """A connection that breaks (dropped, timed out, server restarted) may work next time."""
        try:
            yield
        except (OSError, IMAPClientAbortError) as err:
            if self._client is not None:  # unusable now: drop it without a LOGOUT that would hang
                with contextlib.suppress(Exception):
                    self._client.shutdown()
                self._client = None
            raise MailboxUnavailable(
                f"mất kết nối với máy chủ thư {self.imap.host}:{self.imap.effective_port}",
                retry=True,
                cause=err,
            ) from err

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError("IMAP mailbox used before connect()")
        return self._client

    def _token(self) -> str:
        """A fresh OAuth2 access token from `mailbox.imap.token_command`."""
        command = self.imap.token_command or ""
        try:
            done = subprocess.run(
                shlex.split(command), capture_output=True, text=True, timeout=60, check=True
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise MailboxUnavailable(
                f"không lấy được mã truy cập OAuth2 bằng lệnh mailbox.imap.token_command "
                f"({type(err).__name__}): kiểm tra lệnh chạy được và in ra mã truy cập",
                retry=False,
                cause=err,
            ) from err
        return done.stdout.strip()

    def supports_idle(self) -> bool:
        return b"IDLE" in self.client.capabilities()

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> bool:
        """Wait in IDLE (RFC 2177) up to `seconds` for new mail in the folder; True when the
        server said EXISTS. Checks `should_stop` every second, and leaves IDLE before returning
        (a server drops an IDLE after 30 minutes: callers re-issue it sooner)."""
        with self._connection_guard():
            client = self.client
            client.idle()
            arrived = False
            try:
                waited = 0.0
                while waited < seconds and not arrived and not should_stop():
                    responses = client.idle_check(timeout=1.0)
                    waited += 1.0
                    arrived = any(
                        isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT")
                        for r in responses
                    )
            finally:
                client.idle_done()
            return arrived

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, IMAPClient.Error):  # gone either way
                self._client.logout()
            self._client = None

    def batches(
        self, cursor: Cursor | None, tries: FetchTries
    ) -> Iterator[tuple[list[Fetched], Cursor | None]]:
        with self._connection_guard():
            yield from self._batches(cursor, tries)

    def _key(self, uid: int) -> str:
        return f"{self._uidvalidity}/{uid}"

    def _batches(
        self, cursor: Cursor | None, tries: FetchTries
    ) -> Iterator[tuple[list[Fetched], Cursor | None]]:
        last_uid = cursor.last_uid if cursor and cursor.uidvalidity == self._uidvalidity else 0
        # "UID n:*" always answers the highest UID, even when it is not above n: filter.
        uids = sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        settings = self.settings
        # Sizes are asked for a stretch of the backlog at a time: for all of it at once, the
        # answers for 10,000 waiting messages were the poll's largest object.
        for start in range(0, len(uids), _SIZES_PER_COMMAND):
            stretch = uids[start : start + _SIZES_PER_COMMAND]
            sizes = {
                uid: int(answer.get(b"RFC822.SIZE", 0))
                for uid, answer in self.client.fetch(stretch, ["RFC822.SIZE"]).items()
            }
            for chunk in size_bounded_batches(
                [(uid, sizes.get(uid, 0)) for uid in stretch],
                settings.batch_size,
                settings.fetch_batch_bytes,
            ):
                if len(chunk) > 1 and any(tries.count(self._key(uid)) for uid in chunk):
                    # An earlier try at this batch never finished: one at a time now, so only
                    # the message that caused it runs out of tries.
                    for uid in chunk:
                        yield self._fetch([uid], sizes, tries), Cursor(self._uidvalidity, uid)
                else:
                    yield self._fetch(chunk, sizes, tries), Cursor(self._uidvalidity, chunk[-1])

    def _fetch(self, chunk: list[int], sizes: dict[int, int], tries: FetchTries) -> list[Fetched]:
        given_up = {uid for uid in chunk if tries.count(self._key(uid)) >= MAX_FETCH_TRIES}
        todo = [uid for uid in chunk if uid not in given_up]
        tries.begin([self._key(uid) for uid in todo])
        large = [uid for uid in todo if sizes.get(uid, 0) > self.settings.stream_above_bytes]
        small = [uid for uid in todo if uid not in large]
        fetched: dict[int, Fetched] = {
            uid: Unfetchable(
                self._key(uid),
                uid,
                self._uidvalidity,
                f"đã thử tải {MAX_FETCH_TRIES} lần không được (thư {sizes.get(uid, 0)} byte)",
            )
            for uid in given_up
        }
        response = self.client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
        for uid in small:
            answer = response.get(uid, {})
            if b"BODY[]" not in answer:  # not given in the batch: ask for it alone, once
                answer = self._fetch_alone(uid)
            fetched[uid] = (
                FetchedMessage(
                    source_key=self._key(uid),
                    raw=bytes(answer[b"BODY[]"]),
                    uid=uid,
                    uidvalidity=self._uidvalidity,
                    received_at=_aware(answer.get(b"INTERNALDATE")),
                )
                if b"BODY[]" in answer
                else Unfetchable(
                    self._key(uid), uid, self._uidvalidity, "máy chủ không trả về nội dung thư"
                )
            )
        for uid in large:
            fetched[uid] = self._stream(uid, tries.spool())
        return [fetched[uid] for uid in chunk]

    def _fetch_alone(self, uid: int) -> dict[bytes, object]:
        try:
            return dict(self.client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"]).get(uid, {}))
        except IMAPClientAbortError:
            raise
        except IMAPClientError:  # the server said NO for this message
            return {}

    def _stream(self, uid: int, spool: Spool) -> Fetched:
        """`BODY.PEEK[]<offset.length>` part by part into the spool: memory holds one part."""
        head = b""
        offset = 0
        try:
            while True:
                key = f"BODY[]<{offset}>".encode()
                answer = self.client.fetch([uid], [f"BODY.PEEK[]<{offset}.{CHUNK_BYTES}>"])
                part = bytes(answer.get(uid, {}).get(key) or b"")
                if not part:
                    break
                spool.write(part)
                if len(head) < HEAD_BYTES:
                    head += part[: HEAD_BYTES - len(head)]
                offset += len(part)
                if len(part) < CHUNK_BYTES:
                    break
            dated = self.client.fetch([uid], ["INTERNALDATE"]).get(uid, {})
        except BaseException:
            spool.discard()
            raise
        if offset == 0:
            spool.discard()
            return Unfetchable(
                self._key(uid), uid, self._uidvalidity, "máy chủ không trả về nội dung thư"
            )
        return FetchedMessage(
            source_key=self._key(uid),
            raw=head,
            uid=uid,
            uidvalidity=self._uidvalidity,
            received_at=_aware(dated.get(b"INTERNALDATE")),
            spooled=spool.finish(),
        )

    def _is_in(self, folder: str, message_id: str) -> bool:
        if not message_id or not self.client.folder_exists(folder):
            return False
        self.client.select_folder(folder, readonly=True)
        try:
            return bool(self.client.search(["HEADER", "Message-ID", message_id]))
        finally:
            self.client.select_folder(self.settings.folder)

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        if not self.client.folder_exists(folder):
            self.client.create_folder(folder)
        self._known_folders.add(folder)

    def file_away(self, refs: Sequence[MessageRef], folder: str) -> list[bool]:
        with self._connection_guard():
            return self._file_away(refs, folder)

    def _file_away(self, refs: Sequence[MessageRef], folder: str) -> list[bool]:
        # A UID from before the mailbox was rebuilt means nothing now.
        current = [r.uid for r in refs if r.uid is not None and r.uidvalidity == self._uidvalidity]
        present = (
            set(self.client.search(["UID", ",".join(map(str, current))])) if current else set()
        )
        if present:
            uids = sorted(present)
            if self.settings.post_action == "flag":
                self.client.add_flags(uids, [f"$Intake{folder}".encode()])
            else:
                self._ensure_folder(folder)
                if self.client.has_capability("MOVE"):
                    self.client.move(uids, folder)
                else:  # copy and mark; deleting is left to people
                    self.client.copy(uids, folder)
                    self.client.add_flags(uids, [f"$Intake{folder}".encode()])
        return [
            r.uid in present
            # Gone from the folder: moved already (by a run that died before recording it)?
            or (
                r.uid in current
                and self.settings.post_action == "move"
                and self._is_in(folder, r.message_id)
            )
            for r in refs
        ]
