"""Queries for compliance leads: verdicts and decisions per day, aggregated in SQL."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Date, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.adapters.db import Database
from core.models import Decision, Verdict


def day_of(db: Database, column) -> ColumnElement:
    """Calendar day (UTC) of a timestamp column, computed by the database."""
    return (func.date(column) if db.is_sqlite else cast(column, Date)).label("day")


def verdicts_per_day(db: Database, since: datetime, until: datetime) -> pd.DataFrame:
    day = day_of(db, Verdict.created_at)
    with db.reader() as s:
        rows = s.execute(select(day, Verdict.risk, func.count().label("n"))
                         .where(Verdict.created_at >= since, Verdict.created_at < until)
                         .group_by(day, Verdict.risk).order_by(day)).all()
    return pd.DataFrame(rows, columns=["day", "risk", "n"])


def decisions_per_day(db: Database, since: datetime, until: datetime) -> pd.DataFrame:
    day = day_of(db, Decision.decided_at)
    with db.reader() as s:
        rows = s.execute(select(day, Decision.kind, func.count().label("n"))
                         .where(Decision.decided_at >= since, Decision.decided_at < until)
                         .group_by(day, Decision.kind).order_by(day)).all()
    return pd.DataFrame(rows, columns=["day", "kind", "n"])
