"""Who an actor is now, read from their account inside the caller's transaction.

The role an actor carries was true when their session read it; a role change or a deactivation
may have committed since. Every permission check therefore reads the account again, in the same
transaction as the change it guards."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from core.domain.errors import PermissionDenied
from core.domain.roles import Action, Actor, Role, require
from core.models import User


def current(session: Session, actor: Actor) -> Actor:
    """The actor with their current role; PermissionDenied for a missing or deactivated account.
    Our own processes (worker, API, console) have no account: they are who the code says."""
    if not actor.is_person:
        return actor
    row = session.execute(select(User.role, User.active).where(User.email == actor.id)).first()
    if row is None:
        raise PermissionDenied(f"{actor.id} has no account")
    if not row.active:
        raise PermissionDenied(f"{actor.id}'s account is deactivated")
    return Actor(actor.id, Role(row.role))


def authorize(session: Session, actor: Actor, action: Action) -> Actor:
    """The current actor, if their current role may do `action`; else PermissionDenied."""
    now = current(session, actor)
    require(now, action)
    return now


def authorize_read(db, actor: Actor, action: Action) -> Actor:
    """`authorize` for a read that opens no unit of work (a query, an export's snapshot)."""
    with db.reader() as session:
        return authorize(session, actor, action)
