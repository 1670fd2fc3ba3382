"""Queries over the audit trail for the Audit page."""
from __future__ import annotations

from datetime import datetime
from typing import IO

import pandas as pd
from sqlalchemy import func, or_, select

from core.adapters.csv_safe import write_rows
from core.adapters.db import Database
from core.adapters.people import authorize_read
from core.domain.roles import Action, Actor
from core.models import AuditEvent
from core.queries.sql import distinct_values

EVENT_COLUMNS = ["seq", "occurred_at", "actor", "action", "object_type", "object_id", "reason",
                 "outcome", "before", "after", "correlation_id", "hash"]


def _filtered(query, *, text: str = "", action: str | None = None, who: str | None = None,
              object_type: str | None = None, object_id: str | None = None,
              since: datetime | None = None, until: datetime | None = None):
    if text:
        like = f"%{text}%"
        query = query.where(or_(AuditEvent.object_id.like(like), AuditEvent.actor.like(like),
                                AuditEvent.action.like(like), AuditEvent.reason.like(like)))
    if action:
        query = query.where(AuditEvent.action == action)
    if who:
        query = query.where(AuditEvent.actor == who)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == str(object_id))
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    return query


def search_events(db: Database, *, actor: Actor, limit: int = 200, **filters) -> pd.DataFrame:
    """Newest first. `text` matches object id, actor, action or reason; the other filters
    (action, who, object_type, object_id, since, until) match exactly."""
    authorize_read(db, actor, Action.AUDIT_READ)
    query = _filtered(select(*[getattr(AuditEvent, c) for c in EVENT_COLUMNS]), **filters)
    with db.reader() as s:
        rows = s.execute(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def distinct_actions(db: Database) -> list[str]:
    return distinct_values(db, "audit_event", "action")


def distinct_actors(db: Database) -> list[str]:
    return distinct_values(db, "audit_event", "actor")


def distinct_object_types(db: Database) -> list[str]:
    return distinct_values(db, "audit_event", "object_type")


def export_csv(db: Database, *, actor: Actor, out: IO[str], **filters) -> int:
    """The matching events, oldest first, as CSV (for spreadsheets; the JSON Lines export is the
    one that verifies on its own). Returns the number of rows written."""
    authorize_read(db, actor, Action.AUDIT_EXPORT)
    with db.snapshot() as s:
        rows = s.execute(_filtered(select(*[getattr(AuditEvent, c) for c in EVENT_COLUMNS]), **filters)
                         .order_by(AuditEvent.seq)).yield_per(1000)
        return write_rows(out, EVENT_COLUMNS, (
            ["" if v is None else (v.isoformat() if isinstance(v, datetime) else v) for v in row] for row in rows))


def event_count(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
