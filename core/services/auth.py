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
from core.settings import AccessSettings

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


def sign_in(uow: UnitOfWork, *, email: str, password: str, access: AccessSettings | None = None) -> Actor:
    """The signed-in actor, or SignInRefused. Failures are counted and committed before refusing.
    With single sign-on on, password accounts work only where `local_accounts` allows them."""
    email = (email or "").strip().lower()
    refusal: str | None = None
    if access is not None and not access.local_accounts:
        raise SignInRefused("password sign-in is off: sign in with single sign-on")
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


def sso_sign_in(uow: UnitOfWork, *, claims: dict, access: AccessSettings) -> Actor:
    """Sign in a person the identity provider vouched for (Streamlit has verified the ID token).

    The role comes from the token's claims through the configured map, every time: the identity
    provider is the source of truth, and a changed group membership changes the role at the next
    sign-in (audited as the system). An account an admin deactivated here stays refused."""
    email = str(claims.get("email") or "").strip().lower()
    who = Actor(id=email or f"sso:{claims.get('sub', 'unknown')}", role=Role.AUDITOR)
    sso_system = Actor.system("sso")
    refusal: str | None = None
    with uow:
        if not email or "@" not in email:
            refusal = "the identity provider sent no email address for this account"
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
            uow.record(who, "auth.sign_in_failed", "user", user.id if user else "unknown", outcome="refused",
                       reason=refusal, after={"method": "sso"})
            uow.commit()
            raise SignInRefused(refusal)
        now = utcnow()
        if user is None:
            user = User(email=email, role=role, display_name=str(claims.get("name") or email))
            uow.session.add(user)
            uow.session.flush()
            uow.record(sso_system, "user.created", "user", user.id, after={"email": email, "role": role},
                       reason="first single sign-on")
        elif user.role != role:
            uow.record(sso_system, "user.role_changed", "user", user.id, before={"role": user.role},
                       after={"role": role}, reason=f"identity provider claim '{access.role_claim}'")
            user.role = role
        user.last_login_at, user.failed_logins, user.locked_until = now, 0, None
        uow.session.add(user)
        actor = Actor(id=email, role=Role(role))
        uow.record(actor, "auth.signed_in", "user", user.id, after={"method": "sso"})
        uow.commit()
    return actor


def record_sign_out(uow: UnitOfWork, *, actor: Actor, reason: str) -> None:
    """Audit the end of a session: signed out, idle timeout, lifetime reached, or account changed."""
    with uow:
        uow.record(actor, "auth.signed_out", "user", actor.id, reason=reason)
        uow.commit()


def demo_sign_in(uow: UnitOfWork, *, email: str, demo_mode: bool) -> Actor:
    """One click into a demo account: only in demo mode and only for the demo accounts."""
    from core.services.users import DEMO_DOMAIN

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
        uow.record(actor, "auth.signed_in", "user", user.id, after={"method": "demo"})
        uow.commit()
    return actor
