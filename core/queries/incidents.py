"""Queries for the Incidents, Communications and Live pages: incidents with their evidence,
customers affected, timeline, regulatory clocks, messages and their delivery log."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select

from core.adapters.clock_rules import load_rules
from core.adapters.db import Database
from core.adapters.incident_records import (  # noqa: F401 (the pages' reads, defined once below both layers)
    _clock_records,
    _sent_by_rule,
    communication,
    communications,
    contacts,
    contacts_for_audience,
    customers_affected,
    delivery_log,
    incident,
    incident_clocks,
    incident_items,
    notes,
    timeline,
)
from core.clock import utcnow
from core.domain.clocks import ClockRule
from core.domain.incidents import Reference
from core.models import Communication, Incident, MediaItem

INCIDENT_COLUMNS = ["id", "title", "severity", "status", "commander", "declared_at"]
COMMUNICATION_COLUMNS = ["id", "incident_id", "template", "audience", "subject", "status", "author",
                         "sent_at"]
DELIVERY_COLUMNS = ["id", "recipient", "channel", "status", "attempts", "last_error", "message_id", "delivered_at"]
OPEN_STATUSES = ("investigating", "contained", "resolved")
FLAGGED_STATES = ("quarantined", "in_review", "confirmed_synthetic")


def list_incidents(db: Database, limit: int = 200) -> pd.DataFrame:
    with db.reader() as s:
        rows = s.execute(select(*[getattr(Incident, c) for c in INCIDENT_COLUMNS])
                         .order_by(Incident.declared_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)


def list_communications(db: Database, limit: int = 200, incident_id: int | None = None) -> pd.DataFrame:
    query = select(*[getattr(Communication, c) for c in COMMUNICATION_COLUMNS])
    if incident_id is not None:
        query = query.where(Communication.incident_id == incident_id)
    with db.reader() as s:
        rows = s.execute(query.order_by(Communication.created_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=COMMUNICATION_COLUMNS)


def flagged_items(db: Database, since_hours: float = 72, limit: int = 200) -> pd.DataFrame:
    """Items a responder most likely declares an incident about: flagged recently, newest first."""
    since = utcnow() - timedelta(hours=since_hours)
    columns = ["id", "file_name", "state", "risk", "source_object", "received_at"]
    with db.reader() as s:
        rows = s.execute(select(*[getattr(MediaItem, c) for c in columns]).where(
            MediaItem.state.in_(FLAGGED_STATES), MediaItem.received_at >= since)
            .order_by(MediaItem.received_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=columns)


def deliveries(db: Database, communication_id: int) -> pd.DataFrame:
    return pd.DataFrame(delivery_log(db, communication_id), columns=DELIVERY_COLUMNS)


# -- regulatory clocks ----------------------------------------------------------------------------
def active_incidents_with_clocks(db: Database, now: datetime | None = None,
                                 rules: list[ClockRule] | None = None) -> list[dict]:
    """Open incidents (not closed), most severe first, each with its clocks:
    {id, reference, title, severity, status, declared_at, clocks: [{rule_id, title, source, url, kind,
    audience, state (not_started|running|warning|overdue|met), deadline, remaining_s, met_at, ...}]}."""
    now, rules = now or utcnow(), load_rules() if rules is None else rules
    with db.reader() as s:
        rows = s.execute(select(Incident).where(Incident.status.in_(OPEN_STATUSES))
                         .order_by(Incident.severity, Incident.declared_at.desc())).scalars().all()
        sent = _sent_by_rule(s, [r.id for r in rows], rules)
        return [{"id": r.id, "reference": str(Reference(r.id)), "title": r.title, "severity": r.severity,
                 "status": r.status, "declared_at": r.declared_at,
                 "clocks": _clock_records(r, sent[r.id], rules, now)} for r in rows]


def clock_rules() -> list:
    """The regulatory clock rules in force (the file the settings name), for pickers."""
    return load_rules()
