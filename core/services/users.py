"""Commands about people: accounts and their roles."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select

from core.adapters.db import Database
from core.domain.roles import HUMAN_ROLES, Action, Actor, Role, require
from core.models import User
from core.services.uow import UnitOfWork

DEMO_DOMAIN = "demo.responsedesk.local"


def demo_email(role: Role) -> str:
    return f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}"


def create_user(uow: UnitOfWork, *, actor: Actor, email: str, role: Role, display_name: str = "",
                password_hash: str | None = None) -> int:
    """Admins create accounts; so does the system (demo seeding, the operator's command line)."""
    if actor.role is not Role.SYSTEM:
        require(actor, Action.USERS_MANAGE)
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"not an email address: {email!r}")
    role = Role(role)
    if role is Role.SYSTEM:
        raise ValueError("the system role is not for people")
    with uow:
        if uow.session.execute(select(User.id).where(User.email == email)).first():
            raise ValueError(f"a user with email {email} exists already")
        user = User(email=email, role=role.value, display_name=display_name or email,
                    password_hash=password_hash)
        uow.session.add(user)
        uow.session.flush()
        # Never the password hash: the trail records who and which role, nothing secret.
        uow.record(actor, "user.created", "user", user.id, after={"email": email, "role": role.value})
        uow.commit()
        return user.id


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


def list_users(db: Database) -> list[dict]:
    with db.reader() as s:
        rows = s.execute(select(User).where(User.active).order_by(User.role, User.email)).scalars()
        return [{"email": u.email, "role": u.role, "display_name": u.display_name} for u in rows]
