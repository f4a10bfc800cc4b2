"""Who may see what: login with argon2-hashed accounts, signed HttpOnly SameSite sessions, CSRF
tokens on every form, a cap on failed logins, and the security headers every answer carries.

Every route declares its role with `Depends(viewer)`, `Depends(officer)` or `Depends(admin)`,
so a route without one stands out in review (and `tests/test_desk.py` walks every route
unauthenticated).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

from domain.kinds import DeskRole

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


@dataclass(frozen=True)
class Officer:
    username: str
    role: DeskRole


class LoginRequired(Exception):
    """No session: the browser is sent to the login page."""


class Forbidden(Exception):
    """Logged in, but the role is not enough."""


def current(request: Request) -> Officer | None:
    data = request.session.get("officer")
    if not isinstance(data, dict):
        return None
    try:
        return Officer(str(data["username"]), DeskRole(data["role"]))
    except (KeyError, ValueError):
        return None


def _needs(role: DeskRole) -> Callable[[Request], Officer]:
    def dependency(request: Request) -> Officer:
        officer = current(request)
        if officer is None:
            raise LoginRequired
        if officer.role.rank < role.rank:
            raise Forbidden
        return officer

    return dependency


viewer = _needs(DeskRole.VIEWER)
officer = _needs(DeskRole.OFFICER)
admin = _needs(DeskRole.ADMIN)
# What a route declares, e.g. `def overview(..., _: Viewer)`.
Viewer = Annotated[Officer, Depends(viewer)]
OfficerRole = Annotated[Officer, Depends(officer)]
Admin = Annotated[Officer, Depends(admin)]


def log_in(request: Request, username: str, role: DeskRole) -> None:
    request.session.clear()  # a new session at login: nothing carried over from before
    request.session["officer"] = {"username": username, "role": role.value}
    request.session["csrf"] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and secrets.compare_digest(expected, submitted or "")


class LoginThrottle:
    """At most `attempts` failed logins per (address, user name) in `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 600) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str, username: str) -> bool:
        with self._lock:
            return len(self._recent((address, username.lower()))) >= self.attempts

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            self._recent((address, username.lower())).append(time.monotonic())

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop((address, username.lower()), None)
