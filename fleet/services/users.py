"""Users (console log-in, argon2id password hashes) and API tokens (stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Invalid, NotFound, Principal, check_region_prefix, check_role
from fleet.clock import now_ms
from fleet.models import ApiToken, User

_hasher = PasswordHasher()
TOKEN_PREFIX = "kft_"
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str,
                region_prefix: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid("username: 1 to 64 characters")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    check_role(role)
    check_region_prefix(region_prefix)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Invalid(f"username {username!r} exists already")
    user = User(username=username, password_hash=hash_password(password), role=role,
                region_prefix=region_prefix, created_at=now_ms(), disabled=False)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password, else ``None`` (same answer for an
    unknown user and a wrong password; the hash is checked either way)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    stored = user.password_hash if user is not None else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return principal_for_user(user)


def principal_for_user(user: User) -> Principal:
    return Principal(user.username, user.role, user.region_prefix, kind="user")


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    get_user(session, username).password_hash = hash_password(password)


def disable_user(session: Session, username: str, disabled: bool = True) -> None:
    get_user(session, username).disabled = disabled


# -- API tokens
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str, region_prefix: str = ""
                 ) -> tuple[ApiToken, str]:
    """A new bearer token: returns the row and the secret, which is shown once only."""
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid("name: 1 to 64 characters")
    check_role(role)
    check_region_prefix(region_prefix)
    if session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise Invalid(f"a token named {name!r} exists already; pick another --name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=_digest(secret), role=role,
                   region_prefix=region_prefix, created_at=now_ms(), revoked=False)
    session.add(row)
    session.flush()
    return row, secret


def resolve_token(session: Session, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if row is None or row.revoked:
        return None
    return Principal(row.name, row.role, row.region_prefix, kind="token")


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.name)))


def revoke_token(session: Session, name: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise NotFound(f"no token {name!r}")
    row.revoked = True


_DUMMY = _hasher.hash("not-a-password-" + secrets.token_hex(8))
