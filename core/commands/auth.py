"""Local accounts: argon2 password hashes, sign-in with lockout after repeated failures.

Every attempt is audited (signed in, failed, locked out); a password or its hash never is."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.errors import DomainError
from core.domain.roles import Actor, Role
from core.models import SignInThrottle, User
from core.settings import AccessSettings

HASHER = PasswordHasher()
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
# What a sign-in form may carry: an address fits RFC 5321's 254 characters; a password longer than
# this is no password anyone types, only a way to make argon2 work for an attacker.
MAX_EMAIL_LENGTH = 254
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
# Per client (browser address, or session where there is none): failures in a window, then a pause.
CLIENT_MAX_FAILURES = 10
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_PAUSE = timedelta(minutes=15)
ANONYMOUS = "anonymous"  # the audit actor of an attempt whose input was not an email address
# One answer for a wrong password, an unknown, deactivated or locked account: the message tells an
# outsider nothing about which accounts exist. The owner of a locked account learns how long it lasts.
REFUSED = (f"Sign-in refused: the email or password is wrong, or the account is locked after repeated "
           f"failed sign-ins (a lock lasts {LOCKOUT.seconds // 60} minutes; an admin can lift it).")
_DUMMY_HASH = HASHER.hash("not a real password, only for equal timing")


class SignInRefused(DomainError):
    """Wrong email or password, or a locked or inactive account. The message is safe to show."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    return HASHER.hash(password)


def _matches(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def clean_email(raw: str | None) -> str | None:
    """The address as typed, trimmed and lower-cased, or None when it is not one (too long, no '@',
    control characters): nothing else reaches the audit trail."""
    email = (raw or "")[:MAX_EMAIL_LENGTH + 1].strip().lower()
    return email if len(email) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(email) else None


def _client_row(uow: UnitOfWork, client: str) -> SignInThrottle:
    """The client's throttle row, created if new, locked for this transaction (no lost count)."""
    insert = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    uow.session.execute(insert(SignInThrottle).values(client=client, failures=0, window_started_at=utcnow())
                        .on_conflict_do_nothing(index_elements=["client"]))
    row: SignInThrottle = uow.session.execute(select(SignInThrottle).where(SignInThrottle.client == client)
                                              .with_for_update()).scalar_one()
    return row


def _count_client_failure(uow: UnitOfWork, row: SignInThrottle, now: datetime) -> None:
    if now - row.window_started_at > CLIENT_WINDOW:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= CLIENT_MAX_FAILURES:
        row.blocked_until, row.failures, row.window_started_at = now + CLIENT_PAUSE, 0, now
        uow.record_claim(ANONYMOUS, AuditAction.AUTH_CLIENT_THROTTLED, "sign_in_client", row.client, outcome="refused",
                         reason=f"{CLIENT_MAX_FAILURES} failed sign-ins within {CLIENT_WINDOW.seconds // 60} minutes",
                         after={"blocked_until": row.blocked_until.isoformat()})
    uow.session.add(row)


def sign_in(uow: UnitOfWork, *, email: str, password: str, access: AccessSettings | None = None,
            client: str = "unknown") -> Actor:
    """The signed-in actor, or SignInRefused. Failures are counted and committed before refusing:
    per account (a lock after MAX_FAILED_SIGN_INS) and per client (a pause after CLIENT_MAX_FAILURES).
    With single sign-on on, password accounts work only where `local_accounts` allows them."""
    if access is not None and not access.local_accounts:
        raise SignInRefused("password sign-in is off: sign in with single sign-on")
    claimed, client = clean_email(email), str(client)[:128]
    password = password or ""
    refusal: str | None = None
    with uow:
        now = utcnow()
        throttle = _client_row(uow, client)
        if throttle.blocked_until is not None and throttle.blocked_until > now:
            uow.commit()  # nothing to record: the pause began with one event, not one per attempt
            minutes = max(1, int((throttle.blocked_until - now).total_seconds() // 60) + 1)
            raise SignInRefused(f"Too many failed sign-ins from this browser: try again in {minutes} minutes.")
        user = None if claimed is None else uow.session.execute(
            select(User).where(User.email == claimed).with_for_update()).scalar_one_or_none()
        who = Actor(id=claimed, role=Role(user.role)) if user else None
        if claimed is None or len(password) > MAX_PASSWORD_LENGTH:
            uow.record_claim(claimed or ANONYMOUS, AuditAction.AUTH_SIGN_IN_FAILED, "user", user.id if user else "unknown",
                             reason="malformed sign-in input", outcome="refused")
            refusal = REFUSED
        elif user is None or not user.active:
            _matches(None, password)  # same work as a real check: no timing hint about which emails exist
            uow.record_claim(claimed, AuditAction.AUTH_SIGN_IN_FAILED, "user", user.id if user else "unknown",
                             reason="unknown or inactive account", outcome="refused")
            refusal = REFUSED
        elif user.locked_until is not None and user.locked_until > now:
            _matches(None, password)
            uow.record_claim(claimed, AuditAction.AUTH_SIGN_IN_FAILED, "user", user.id, reason="account locked",
                             outcome="refused")
            refusal = REFUSED
        elif not _matches(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_SIGN_INS:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
                uow.record_claim(claimed, AuditAction.AUTH_LOCKED_OUT, "user", user.id, outcome="refused",
                                 reason=f"{MAX_FAILED_SIGN_INS} failed sign-ins",
                                 after={"locked_until": str(user.locked_until)})
            else:
                uow.record_claim(claimed, AuditAction.AUTH_SIGN_IN_FAILED, "user", user.id, reason="wrong password",
                                 outcome="refused", after={"failed_sign_ins": user.failed_logins})
            uow.session.add(user)
            refusal = REFUSED
        else:
            if HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = HASHER.hash(password)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            uow.session.add(user)
            uow.record_claim(claimed, AuditAction.AUTH_SIGNED_IN, "user", user.id)
        if refusal:
            _count_client_failure(uow, throttle, now)
        uow.commit()
    if refusal or who is None:
        raise SignInRefused(refusal or REFUSED)
    return who


def sso_sign_in(uow: UnitOfWork, *, claims: dict[str, Any], access: AccessSettings) -> Actor:
    """Sign in a person the identity provider vouched for (Streamlit has verified the ID token).

    The role comes from the token's claims through the configured map, every time: the identity
    provider is the source of truth, and a changed group membership changes the role at the next
    sign-in (audited as the system). An account an admin deactivated here stays refused."""
    email = clean_email(str(claims.get("email") or "")) or ""
    who = email or f"sso:{str(claims.get('sub', 'unknown'))[:64]}"
    sso_system = Actor.system("sso")
    refusal: str | None = None
    with uow:
        if not email:
            refusal = "the identity provider sent no email address for this account (or not a valid one)"
        elif claims.get("email_verified") is False:
            refusal = "the identity provider has not verified this email address"
        role = access.role_for(claims)
        if refusal is None and role is None:
            refusal = (f"your account has no Response Desk role: ask an admin to add you to a group that "
                       f"the '{access.role_claim}' claim maps to a role")
        user = None if refusal else uow.session.execute(
            select(User).where(User.email == email)).scalar_one_or_none()
        if refusal is None and user is not None and not user.active:
            refusal = "this account is deactivated in Response Desk"
        if refusal:
            uow.record_claim(who, AuditAction.AUTH_SIGN_IN_FAILED, "user", user.id if user else "unknown", outcome="refused",
                       reason=refusal, after={"method": "sso"})
            uow.commit()
            raise SignInRefused(refusal)
        now = utcnow()
        if user is None:
            user = User(email=email, role=role, display_name=str(claims.get("name") or email))
            uow.session.add(user)
            uow.session.flush()
            uow.record(sso_system, AuditAction.USER_CREATED, "user", user.id, after={"email": email, "role": role},
                       reason="first single sign-on")
        elif user.role != role:
            uow.record(sso_system, AuditAction.USER_ROLE_CHANGED, "user", user.id, before={"role": user.role},
                       after={"role": role}, reason=f"identity provider claim '{access.role_claim}'")
            user.role = role
        user.last_login_at, user.failed_logins, user.locked_until = now, 0, None
        uow.session.add(user)
        actor = Actor(id=email, role=Role(role))
        uow.record_claim(actor.id, AuditAction.AUTH_SIGNED_IN, "user", user.id, after={"method": "sso"})
        uow.commit()
    return actor


def record_sign_out(uow: UnitOfWork, *, actor: Actor, reason: str) -> None:
    """Audit the end of a session: signed out, idle timeout, lifetime reached, or account changed."""
    with uow:
        uow.record_claim(actor.id, AuditAction.AUTH_SIGNED_OUT, "user", actor.id, reason=reason)
        uow.commit()


def demo_sign_in(uow: UnitOfWork, *, email: str, demo_mode: bool) -> Actor:
    """One click into a demo account: only in demo mode and only for the demo accounts."""
    from core.commands.users import DEMO_DOMAIN

    email = email.strip().lower()
    if not demo_mode or not email.endswith("@" + DEMO_DOMAIN):
        raise SignInRefused("demo sign-in works only for demo accounts in demo mode")
    with uow:
        user = uow.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None or not user.active:
            raise SignInRefused("no such demo account")
        user.last_login_at = utcnow()
        uow.session.add(user)
        actor = Actor(id=email, role=Role(user.role))
        uow.record_claim(actor.id, AuditAction.AUTH_SIGNED_IN, "user", user.id, after={"method": "demo"})
        uow.commit()
    return actor
