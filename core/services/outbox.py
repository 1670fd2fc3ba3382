"""The outbox: effects on the outside world, committed with the change that causes them and
performed later by the relay. Claims carry a lease; attempts back off exponentially with jitter;
after the last attempt an entry is parked as a dead letter for an admin to see and requeue."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from core.adapters.db import Database
from core.clock import utcnow
from core.models import OutboxEntry


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 2.0
    cap_s: float = 600.0

    def delay(self, attempts: int, rng: random.Random = random.Random()) -> timedelta:
        """Full jitter: uniform between 0 and base * 2^attempts, capped."""
        return timedelta(seconds=rng.uniform(0, min(self.cap_s, self.base_s * 2 ** attempts)))


def claim(db: Database, *, kinds: tuple[str, ...], owner: str, limit: int = 200,
          lease: timedelta = timedelta(minutes=2), now: datetime | None = None) -> list[OutboxEntry]:
    """Take up to `limit` due entries of these kinds under a lease only `owner` holds."""
    now = now or utcnow()
    with db.writer() as s:
        candidates = s.execute(select(OutboxEntry.id).where(
            OutboxEntry.status == "pending", OutboxEntry.kind.in_(kinds), OutboxEntry.next_attempt_at <= now,
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


def _held_by(entry_id: int, owner: str):
    return (OutboxEntry.id == entry_id) & (OutboxEntry.lease_owner == owner) & (OutboxEntry.status == "pending")


def mark_done(session, entry: OutboxEntry, owner: str) -> bool:
    """Within the caller's transaction; False when the lease was lost (another relay took over)."""
    result = session.execute(update(OutboxEntry).where(_held_by(entry.id, owner)).values(
        status="done", done_at=utcnow(), lease_owner=None, lease_expires_at=None, last_error=None))
    return result.rowcount == 1


def mark_failed(db: Database, entry: OutboxEntry, owner: str, error: str, *, transient: bool,
                policy: RetryPolicy = RetryPolicy()) -> str:
    """Schedule a retry, or park the entry as a dead letter. Returns the new status."""
    attempts = entry.attempts + 1
    dead = not transient or attempts >= policy.max_attempts
    status = "dead" if dead else "pending"
    with db.writer() as s:
        s.execute(update(OutboxEntry).where(_held_by(entry.id, owner)).values(
            attempts=attempts, status=status, last_error=error[:2000], lease_owner=None, lease_expires_at=None,
            next_attempt_at=utcnow() + (timedelta(0) if dead else policy.delay(attempts))))
        s.commit()
    return status


def requeue_dead_letter(uow, *, actor, entry_id: int) -> None:
    """An admin sends a dead letter round again (after fixing what made it fail)."""
    from core.domain.errors import NotFound
    from core.domain.roles import Action

    with uow:
        actor = uow.authorize(actor, Action.SETTINGS_MANAGE)
        entry = uow.session.get(OutboxEntry, entry_id)
        if entry is None or entry.status != "dead":
            raise NotFound(f"no dead letter {entry_id}")
        before = {"status": entry.status, "attempts": entry.attempts, "last_error": entry.last_error}
        entry.status, entry.attempts, entry.next_attempt_at = "pending", 0, utcnow()
        uow.session.add(entry)
        uow.record(actor, "outbox.requeued", "outbox_entry", entry.id, before=before,
                   after={"status": "pending", "kind": entry.kind})
        uow.commit()
