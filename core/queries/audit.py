"""Queries over the audit trail for the Audit page."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, or_, select

from core.adapters.db import Database
from core.domain.roles import Action, Actor, require
from core.models import AuditEvent

EVENT_COLUMNS = ["seq", "occurred_at", "actor", "action", "object_type", "object_id", "reason",
                 "outcome", "before", "after", "correlation_id", "hash"]


def search_events(db: Database, *, actor: Actor, text: str = "", action: str | None = None,
                  who: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  limit: int = 200) -> pd.DataFrame:
    """Newest first. `text` matches object id, actor, action or reason."""
    require(actor, Action.AUDIT_READ)
    query = select(*[getattr(AuditEvent, c) for c in EVENT_COLUMNS])
    if text:
        like = f"%{text}%"
        query = query.where(or_(AuditEvent.object_id.like(like), AuditEvent.actor.like(like),
                                AuditEvent.action.like(like), AuditEvent.reason.like(like)))
    if action:
        query = query.where(AuditEvent.action == action)
    if who:
        query = query.where(AuditEvent.actor == who)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    with db.reader() as s:
        rows = s.execute(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def distinct_actions(db: Database) -> list[str]:
    with db.reader() as s:
        return list(s.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def event_count(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
