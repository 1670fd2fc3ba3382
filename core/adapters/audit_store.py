"""Appending to and reading the hash-chained audit table."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.domain import audit_chain
from core.models import AuditAnchor, AuditEvent


@dataclass
class PendingEvent:
    """An audit event waiting for its transaction to commit."""

    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None
    outcome: str = "success"
    extra: dict[str, Any] = field(default_factory=dict)


def _lock_anchor(session: Session) -> AuditAnchor:
    """Lock the chain head for the rest of the transaction.

    PostgreSQL: SELECT ... FOR UPDATE on the anchor row, so concurrent appenders queue.
    SQLite: the write engine began this transaction with BEGIN IMMEDIATE, which already
    holds the database's single write lock.
    """
    anchor = session.execute(
        select(AuditAnchor).where(AuditAnchor.id == 1).with_for_update()
    ).scalar_one_or_none()
    if anchor is None:
        raise RuntimeError("audit_anchor row missing: run the database migrations")
    return anchor


def append(session: Session, events: list[PendingEvent], key: bytes, correlation_id: str) -> list[AuditEvent]:
    if not events:
        return []
    anchor = _lock_anchor(session)
    seq, prev = anchor.seq, anchor.head_hash
    written = []
    for pending in events:
        seq += 1
        fields = {
            "seq": seq,
            "prev_hash": prev,
            "occurred_at": audit_chain.format_time(pending.occurred_at),
            "actor": pending.actor,
            "action": pending.action,
            "object_type": pending.object_type,
            "object_id": str(pending.object_id),
            "before": None if pending.before is None else audit_chain.canonical_json(pending.before),
            "after": None if pending.after is None else audit_chain.canonical_json(pending.after),
            "reason": pending.reason,
            "outcome": pending.outcome,
            "correlation_id": correlation_id,
        }
        digest = audit_chain.event_hash(fields)
        row = AuditEvent(**{**fields, "occurred_at": pending.occurred_at},
                         hash=digest, seal=audit_chain.seal(key, digest))
        session.add(row)
        written.append(row)
        prev = digest
    anchor.seq, anchor.head_hash = seq, prev
    anchor.seal = audit_chain.anchor_seal(key, seq, prev)
    session.add(anchor)
    session.flush()
    return written


def event_record(row: AuditEvent) -> dict[str, Any]:
    """The plain mapping that hashing, verification and exports use."""
    return {
        "seq": row.seq,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "seal": row.seal,
        "occurred_at": audit_chain.format_time(row.occurred_at),
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "before": row.before,
        "after": row.after,
        "reason": row.reason,
        "outcome": row.outcome,
        "correlation_id": row.correlation_id,
    }


def iter_events(session: Session, upto: int | None = None, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Events in stored order (up to seq `upto`), read in pages so memory stays flat."""
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > last)
        if upto is not None:
            query = query.where(AuditEvent.seq <= upto)
        rows = session.execute(query.order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            return
        for row in rows:
            yield event_record(row)
        last = rows[-1].seq
        session.expunge_all()


def read_anchor(session: Session) -> dict[str, Any] | None:
    anchor = session.get(AuditAnchor, 1)
    if anchor is None:
        return None
    return {"seq": anchor.seq, "head_hash": anchor.head_hash, "seal": anchor.seal}


def verify(session: Session, key: bytes | None) -> audit_chain.ChainReport:
    """Verify the chain against its anchor. Give it a snapshot session (Database.snapshot())
    so that events appended while it walks neither count nor confuse it."""
    return audit_chain.verify_chain(iter_events(session), key=key, anchor=read_anchor(session))
