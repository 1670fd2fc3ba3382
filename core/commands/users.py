"""Commands about people: accounts and their roles."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.adapters.db import Database
from core.adapters.uow import UnitOfWork
from core.domain.audit_actions import AuditAction
from core.domain.errors import FourEyesViolation, NotFound
from core.domain.roles import HUMAN_ROLES, Action, Actor, Role
from core.models import User

DEMO_DOMAIN = "demo.responsedesk.local"


def demo_email(role: Role) -> str:
    return f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}"


def create_user(uow: UnitOfWork, *, actor: Actor, email: str, role: Role, display_name: str = "",
                password_hash: str | None = None) -> int:
    """Admins create accounts; so does the system (demo seeding, the operator's command line)."""
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"not an email address: {email!r}")
    role = Role(role)
    if role is Role.SYSTEM:
        raise ValueError("the system role is not for people")
    with uow:
        if actor.is_person or actor.role is not Role.SYSTEM:
            actor = uow.authorize(actor, Action.USERS_MANAGE)
        if uow.session.execute(select(User.id).where(User.email == email)).first():
            raise ValueError(f"a user with email {email} exists already")
        user = User(email=email, role=role.value, display_name=display_name or email,
                    password_hash=password_hash)
        uow.session.add(user)
        uow.session.flush()
        # Never the password hash: the trail records who and which role, nothing secret.
        uow.record(actor, AuditAction.USER_CREATED, "user", user.id, after={"email": email, "role": role.value})
        uow.commit()
        return uow.new_id(user)


def _user(uow: UnitOfWork, email: str) -> User:
    """The account, locked for the rest of the transaction (PostgreSQL: no lost update)."""
    user: User | None = uow.session.execute(select(User).where(User.email == email.strip().lower())
                                            .with_for_update()).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {email}")
    return user


def set_role(uow: UnitOfWork, *, actor: Actor, email: str, role: Role, reason: str) -> None:
    """Admins change a person's role; the person's open sessions pick it up at their next action."""
    role = Role(role)
    if role is Role.SYSTEM:
        raise ValueError("the system role is not for people")
    if not reason.strip():
        raise ValueError("say why the role changes")
    with uow:
        actor = uow.authorize(actor, Action.USERS_MANAGE)
        user = _user(uow, email)
        if user.email == actor.id:
            raise FourEyesViolation("nobody changes their own role")
        if user.role != role.value:
            before, user.role = user.role, role.value
            uow.session.add(user)
            uow.record(actor, AuditAction.USER_ROLE_CHANGED, "user", user.id, before={"role": before},
                       after={"role": role.value}, reason=reason)
        uow.commit()


def set_active(uow: UnitOfWork, *, actor: Actor, email: str, active: bool, reason: str) -> None:
    """Deactivating ends the person's sessions at their next action and refuses new sign-ins."""
    if not reason.strip():
        raise ValueError("say why")
    with uow:
        actor = uow.authorize(actor, Action.USERS_MANAGE)
        user = _user(uow, email)
        if user.email == actor.id and not active:
            raise FourEyesViolation("nobody deactivates their own account")
        if user.active != active:
            user.active = active
            uow.session.add(user)
            uow.record(actor, AuditAction.USER_ACTIVATED if active else AuditAction.USER_DEACTIVATED, "user", user.id,
                       before={"active": not active}, after={"active": active}, reason=reason)
        uow.commit()


def unlock(uow: UnitOfWork, *, actor: Actor, email: str, reason: str) -> None:
    """Lift a lockout after failed sign-ins (for example once the person has been called back)."""
    if not reason.strip():
        raise ValueError("say why")
    with uow:
        actor = uow.authorize(actor, Action.USERS_MANAGE)
        user = _user(uow, email)
        if user.locked_until is not None or user.failed_logins:
            before = {"locked_until": str(user.locked_until) if user.locked_until else None,
                      "failed_sign_ins": user.failed_logins}
            user.locked_until, user.failed_logins = None, 0
            uow.session.add(user)
            uow.record(actor, AuditAction.USER_UNLOCKED, "user", user.id, before=before, reason=reason)
        uow.commit()


DEMO_OFF_REASON = "demo mode is off: demo accounts sign in without a password"


def sync_demo_accounts(db: Database, uow_factory: Callable[[], UnitOfWork], *, demo_mode: bool) -> list[str]:
    """At start-up: in demo mode one demo account per role exists and is active; otherwise every demo
    account is deactivated (audited), so none of them can act however a session was obtained.
    Returns the emails changed."""
    if demo_mode:
        changed = ensure_demo_users(db, uow_factory)
        with db.reader() as s:
            off = list(s.execute(select(User.email).where(User.email.like(f"%@{DEMO_DOMAIN}"), ~User.active)).scalars())
        for email in off:
            _set_active_as_system(uow_factory(), email, True, "demo mode is on")
        return changed + off
    with db.reader() as s:
        on = list(s.execute(select(User.email).where(User.email.like(f"%@{DEMO_DOMAIN}"), User.active)).scalars())
    for email in on:
        _set_active_as_system(uow_factory(), email, False, DEMO_OFF_REASON)
    return on


def _set_active_as_system(uow: UnitOfWork, email: str, active: bool, reason: str) -> None:
    with uow:
        user = _user(uow, email)
        if user.active != active:
            user.active = active
            uow.session.add(user)
            uow.record(Actor.system("startup"), AuditAction.USER_ACTIVATED if active else AuditAction.USER_DEACTIVATED, "user",
                       user.id, before={"active": not active}, after={"active": active}, reason=reason)
        uow.commit()


def ensure_demo_users(db: Database, uow_factory: Callable[[], UnitOfWork]) -> list[str]:
    """One demo account per role, created once. Returns the emails created now."""
    with db.reader() as s:
        existing = set(s.execute(select(User.email)).scalars())
    created = []
    for role in HUMAN_ROLES:
        email = demo_email(role)
        if email not in existing:
            create_user(uow_factory(), actor=Actor.system("demo"), email=email, role=role,
                        display_name=f"Demo {role.value.replace('_', ' ')}")
            created.append(email)
    return created


def list_users(db: Database) -> list[dict[str, Any]]:
    with db.reader() as s:
        rows = s.execute(select(User).where(User.active).order_by(User.role, User.email)).scalars()
        return [{"email": u.email, "role": u.role, "display_name": u.display_name} for u in rows]


def people(db: Database) -> list[dict[str, Any]]:
    """Every account, active or not, for the admins' and auditors' view. Never the password hash."""
    with db.reader() as s:
        rows = s.execute(select(User).order_by(User.active.desc(), User.role, User.email)).scalars()
        return [{"email": u.email, "role": u.role, "display_name": u.display_name, "active": u.active,
                 "sign_in": "password" if u.password_hash else
                 ("demo" if u.email.endswith(DEMO_DOMAIN) else "single sign-on"),
                 "locked_until": u.locked_until, "last_sign_in": u.last_login_at, "created": u.created_at}
                for u in rows]


def active_role(db: Database, email: str) -> Role | None:
    """The role an account holds now, or None when it is missing or deactivated."""
    with db.reader() as s:
        row = s.execute(select(User.role, User.active).where(User.email == email)).first()
    return Role(row.role) if row and row.active else None
