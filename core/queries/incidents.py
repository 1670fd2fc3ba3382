"""Queries for the Incidents and Communications pages."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from core.adapters.db import Database
from core.models import Communication, Incident

INCIDENT_COLUMNS = ["id", "title", "severity", "status", "commander", "declared_at"]
COMMUNICATION_COLUMNS = ["id", "incident_id", "template", "audience", "subject", "status", "author",
                         "sent_at"]


def list_incidents(db: Database, limit: int = 200) -> pd.DataFrame:
    with db.reader() as s:
        rows = s.execute(select(*[getattr(Incident, c) for c in INCIDENT_COLUMNS])
                         .order_by(Incident.declared_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)


def list_communications(db: Database, limit: int = 200) -> pd.DataFrame:
    with db.reader() as s:
        rows = s.execute(select(*[getattr(Communication, c) for c in COMMUNICATION_COLUMNS])
                         .order_by(Communication.created_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=COMMUNICATION_COLUMNS)
