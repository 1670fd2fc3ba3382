"""The outbox: effects on the outside world, committed with the change that causes them and performed
later by a relay. Claims carry a lease; a failed attempt backs off (core.domain.outbox.RetryPolicy);
after the last attempt, or a refusal for good, the entry is a dead letter, on the audit trail, for an
admin to see and send round again.

Leases are bookkeeping and are not audited; every outcome is: the relay's command that records what
was done marks the entry done in the same transaction, and a dead letter writes its own event."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from core.adapters.db import Database
from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.errors import NotFound
from core.domain.outbox import OutboxStatus, RetryPolicy
from core.domain.quarantine import QuarantineStatus, check_transition
from core.domain.roles import Action, Actor
from core.models import OutboxEntry, Quarantine


def claim(db: Database, *, kinds: tuple[str, ...], owner: str, limit: int = 200,
          lease: timedelta = timedelta(minutes=2), now: datetime | None = None) -> list[OutboxEntry]:
    """Take up to `limit` due entries of these kinds under a lease only `owner` holds."""
    now = now or utcnow()
    with db.writer() as s:
        candidates = s.execute(select(OutboxEntry.id).where(
            OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.kind.in_(kinds), OutboxEntry.next_attempt_at <= now,
            or_(OutboxEntry.lease_expires_at.is_(None), OutboxEntry.lease_expires_at < now))
            .order_by(OutboxEntry.id).limit(limit).with_for_update(skip_locked=True)).scalars().all()
        if not candidates:
            s.rollback()
            return []
        s.execute(update(OutboxEntry).where(OutboxEntry.id.in_(candidates)).values(
            lease_owner=owner, lease_expires_at=now + lease))
        s.commit()
        return list(s.execute(select(OutboxEntry).where(OutboxEntry.id.in_(candidates))
                              .order_by(OutboxEntry.id)).scalars())


def _held_by(entry_id: int | None, owner: str) -> ColumnElement[bool]:
    return and_(OutboxEntry.id == entry_id, OutboxEntry.lease_owner == owner, OutboxEntry.status == OutboxStatus.PENDING)


def complete(uow: UnitOfWork, entry: OutboxEntry, owner: str) -> bool:
    """Inside the command that records the effect: False when the lease was lost (another relay took
    the entry over and records it instead)."""
    result = uow.session.execute(update(OutboxEntry).where(_held_by(entry.id, owner)).values(
        status=OutboxStatus.DONE, done_at=utcnow(), lease_owner=None, lease_expires_at=None, last_error=None))
    return bool(result.rowcount == 1)


def record_effects(uow: UnitOfWork, *, actor: Actor, entries: list[OutboxEntry], owner: str,
                   action: AuditAction, details: Callable[[OutboxEntry], dict[str, Any]]) -> list[OutboxEntry]:
    """A relay performed these entries' effect: each is done, with its audit event (`details(entry)`).
    Returns the entries recorded (not those whose lease another relay holds now)."""
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        done = [e for e in entries if complete(uow, e, owner)]
        for entry in done:
            uow.record(actor, action, "media_item", entry.item_id, after=details(entry))
        uow.commit()
        return done


def record_failure(uow: UnitOfWork, *, actor: Actor, entry: OutboxEntry, owner: str, error: str,
                   transient: bool, policy: RetryPolicy = RetryPolicy()) -> OutboxStatus:
    """An attempt failed: the entry waits and tries again, or becomes a dead letter (on the trail).
    Returns the entry's new status; nothing changes when the lease was lost."""
    attempts = entry.attempts + 1
    dead = policy.gives_up(attempts, transient=transient)
    status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        held = uow.session.execute(update(OutboxEntry).where(_held_by(entry.id, owner)).values(
            attempts=attempts, status=status, last_error=error[:2000], lease_owner=None, lease_expires_at=None,
            next_attempt_at=utcnow() + (timedelta(0) if dead else policy.delay(attempts)))).rowcount == 1
        if held and dead:
            uow.record(actor, AuditAction.OUTBOX_DEAD_LETTERED, "outbox_entry", entry.id, outcome="failure",
                       reason=error[:500], after={"kind": entry.kind, "item_id": entry.item_id, "attempts": attempts})
        uow.commit()
    return status


def requeue_dead_letter(uow: UnitOfWork, *, actor: Actor, entry_id: int) -> None:
    """An admin sends a dead letter round again (after fixing what made it fail)."""
    with uow:
        actor = uow.authorize(actor, Action.SETTINGS_MANAGE)
        entry = uow.session.get(OutboxEntry, entry_id, with_for_update=True)
        if entry is None or entry.status != OutboxStatus.DEAD:
            raise NotFound(f"no dead letter {entry_id}")
        before = {"status": entry.status, "attempts": entry.attempts, "last_error": entry.last_error}
        entry.status, entry.attempts, entry.next_attempt_at = OutboxStatus.PENDING, 0, utcnow()
        uow.session.add(entry)
        if entry.kind == "sf.release":  # the failed restore is being tried again
            q = uow.session.get(Quarantine, entry.payload["quarantine_id"], with_for_update=True)
            if q is not None and q.status == QuarantineStatus.RESTORE_FAILED:
                check_transition(q.status, QuarantineStatus.RELEASING)
                q.status = QuarantineStatus.RELEASING
                uow.session.add(q)
        uow.record(actor, AuditAction.OUTBOX_REQUEUED, "outbox_entry", entry.id, before=before,
                   after={"status": OutboxStatus.PENDING, "kind": entry.kind})
        uow.commit()
