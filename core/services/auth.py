"""Local accounts: argon2 password hashes, sign-in with lockout after repeated failures.

Every attempt is audited (signed in, failed, locked out); a password or its hash never is."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from core.clock import utcnow
from core.domain.errors import DomainError
from core.domain.roles import Actor, Role
from core.models import User
from core.services.uow import UnitOfWork

HASHER = PasswordHasher()
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
_DUMMY_HASH = HASHER.hash("not a real password, only for equal timing")


class SignInRefused(DomainError):
    """Wrong email or password, or a locked or inactive account. The message is safe to show."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return HASHER.hash(password)


def _matches(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_in(uow: UnitOfWork, *, email: str, password: str) -> Actor:
    """The signed-in actor, or SignInRefused. Failures are counted and committed before refusing."""
    email = (email or "").strip().lower()
    refusal: str | None = None
    with uow:
        user = uow.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        now = utcnow()
        who = Actor(id=email or "unknown", role=Role(user.role) if user else Role.AUDITOR)
        if user is None or not user.active:
            _matches(None, password)  # same work as a real check: no timing hint about which emails exist
            uow.record(who, "auth.sign_in_failed", "user", user.id if user else "unknown",
                       reason="unknown or inactive account", outcome="refused")
            refusal = "wrong email or password"
        elif user.locked_until is not None and user.locked_until > now:
            uow.record(who, "auth.sign_in_failed", "user", user.id, reason="account locked", outcome="refused")
            refusal = f"this account is locked until {user.locked_until:%H:%M} UTC after repeated failed sign-ins"
        elif not _matches(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_SIGN_INS:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
                uow.record(who, "auth.locked_out", "user", user.id, outcome="refused",
                           reason=f"{MAX_FAILED_SIGN_INS} failed sign-ins", after={"locked_until": str(user.locked_until)})
                refusal = f"too many failed sign-ins: the account is locked for {LOCKOUT.seconds // 60} minutes"
            else:
                uow.record(who, "auth.sign_in_failed", "user", user.id, reason="wrong password", outcome="refused",
                           after={"failed_sign_ins": user.failed_logins})
                refusal = "wrong email or password"
            uow.session.add(user)
        else:
            if HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = HASHER.hash(password)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            uow.session.add(user)
            uow.record(who, "auth.signed_in", "user", user.id)
        uow.commit()
    if refusal:
        raise SignInRefused(refusal)
    return who
