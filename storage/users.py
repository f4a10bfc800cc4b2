"""Officers' accounts on the desk: created, re-passworded and disabled by the operator
(`intake user …`), checked at login. Passwords are kept as argon2 hashes only."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from domain.kinds import DeskRole
from storage.models import DeskUser

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs as long as a wrong password.
    Made at the first login, not at import: an argon2 hash takes 64 MB for a moment, which every
    `intake` command (a poll included) carried as its peak memory."""
    return _hasher.hash("not a password anyone has")


class UserError(Exception):
    """No such user, or one that exists already."""


def add(session: Session, username: str, password: str, role: DeskRole) -> DeskUser:
    if find(session, username) is not None:
        raise UserError(username)
    user = DeskUser(username=username, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    return user


def find(session: Session, username: str) -> DeskUser | None:
    return session.exec(select(DeskUser).where(DeskUser.username == username)).first()


def set_password(session: Session, username: str, password: str) -> None:
    user = find(session, username)
    if user is None:
        raise UserError(username)
    user.password_hash = _hasher.hash(password)
    session.add(user)


def disable(session: Session, username: str) -> None:
    user = find(session, username)
    if user is None:
        raise UserError(username)
    user.active = False
    session.add(user)


def authenticate(session: Session, username: str, password: str) -> DeskUser | None:
    """The active user with this name and password, or None (same cost either way)."""
    user = find(session, username)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.active else None
