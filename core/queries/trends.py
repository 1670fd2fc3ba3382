"""Queries for compliance leads: flags, decisions, precision, drift and time to decision, all
aggregated by the database over indexed columns, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.adapters.csv_safe import frame_to_csv
from core.adapters.db import Database
from core.domain.decisions import DecisionStatus
from core.models import Decision, MediaItem, Signal, Verdict
from core.queries import sql
from core.queries.sql import FLAGGED_RISKS, QUIET_LABELS

DECIDED = (DecisionStatus.FINAL, DecisionStatus.APPROVED)  # a pending release is not a decision yet
KINDS = ("confirm_synthetic", "release")


def day_of(db: Database, column) -> ColumnElement:
    """Calendar day (UTC) of a timestamp column, computed by the database."""
    return sql.day_of(db, column).label("day")


def period_of(db: Database, column, grain: str) -> ColumnElement:
    if grain not in ("day", "week"):
        raise ValueError("grain is day or week")
    return (sql.day_of(db, column) if grain == "day" else sql.week_of(db, column)).label("period")


def _frame(rows, columns) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).dt.date
    return frame


def _group(by: str, db: Database) -> ColumnElement:
    if by == "source":
        return func.coalesce(MediaItem.source_object, MediaItem.source).label("group")
    if by == "detector":
        return Signal.name.label("group")
    raise ValueError("by is source or detector")


def flagged(db: Database, since: datetime, until: datetime, *, grain: str = "day", by: str = "source") -> pd.DataFrame:
    """Flagged items per period, by source object or by the detector that found something."""
    period, group = period_of(db, MediaItem.scanned_at, grain), _group(by, db)
    query = (select(period, group, func.count(func.distinct(MediaItem.id)).label("n"))
             .where(MediaItem.risk.in_(FLAGGED_RISKS), MediaItem.scanned_at >= since, MediaItem.scanned_at < until))
    if by == "detector":
        query = query.join(Signal, Signal.item_id == MediaItem.id).where(Signal.label.not_in(QUIET_LABELS))
    with db.reader() as s:
        rows = s.execute(query.group_by(period, group).order_by(period)).all()
    return _frame(rows, ["period", "group", "n"])


def confirmed(db: Database, since: datetime, until: datetime, *, grain: str = "day", by: str = "source") -> pd.DataFrame:
    """Items confirmed synthetic per period, by source object or by detector that had fired."""
    period, group = period_of(db, Decision.decided_at, grain), _group(by, db)
    query = (select(period, group, func.count(func.distinct(Decision.item_id)).label("n"))
             .join(MediaItem, MediaItem.id == Decision.item_id)
             .where(Decision.kind == "confirm_synthetic", Decision.decided_at >= since, Decision.decided_at < until,
                    Decision.status.in_(DECIDED)))
    if by == "detector":
        query = query.join(Signal, Signal.item_id == Decision.item_id).where(Signal.label.not_in(QUIET_LABELS))
    with db.reader() as s:
        rows = s.execute(query.group_by(period, group).order_by(period)).all()
    return _frame(rows, ["period", "group", "n"])


def false_positive_rate(db: Database, since: datetime, until: datetime, *, grain: str = "day") -> pd.DataFrame:
    """Per period: the files flagged in it, how many of those a reviewer has since released, and
    released / flagged: a share of the period's own flags, so always within 0-1."""
    period = period_of(db, Verdict.created_at, grain)
    released = exists().where(Decision.item_id == Verdict.item_id, Decision.kind == "release",
                              Decision.status.in_(DECIDED))
    with db.reader() as s:
        rows = s.execute(select(period, func.count(func.distinct(Verdict.item_id)).label("flagged"),
                                func.count(func.distinct(Verdict.item_id)).filter(released).label("released"))
                         .where(Verdict.created_at >= since, Verdict.created_at < until,
                                Verdict.risk.in_(FLAGGED_RISKS)).group_by(period).order_by(period)).all()
    frame = _frame(rows, ["period", "flagged", "released"]).astype({"flagged": int, "released": int})
    frame["false_positive_rate"] = (frame["released"] / frame["flagged"].where(frame["flagged"] > 0)).round(3)
    return frame


def detector_precision(db: Database, since: datetime, until: datetime) -> pd.DataFrame:
    """Each detector's precision by reviewer decisions: of the decided items it fired on, the share
    confirmed synthetic (the rest were released)."""
    conf = func.count(func.distinct(Decision.item_id)).filter(Decision.kind == "confirm_synthetic")
    rel = func.count(func.distinct(Decision.item_id)).filter(Decision.kind == "release")
    with db.reader() as s:
        rows = s.execute(select(Signal.name, conf.label("confirmed"), rel.label("released"))
                         .join(Signal, Signal.item_id == Decision.item_id)
                         .where(Decision.kind.in_(KINDS), Decision.decided_at >= since, Decision.decided_at < until,
                                Decision.status.in_(DECIDED), Signal.label.not_in(QUIET_LABELS))
                         .group_by(Signal.name).order_by(Signal.name)).all()
    frame = pd.DataFrame(rows, columns=["detector", "confirmed", "released"])
    decided = frame["confirmed"] + frame["released"]
    frame["precision"] = (frame["confirmed"] / decided.where(decided > 0)).round(3)
    return frame


def score_distribution(db: Database, since: datetime, until: datetime, *, grain: str = "week",
                       bins: int = 10) -> pd.DataFrame:
    """Scores of scoring detectors per period in `bins` equal bins, and the mean: drift shows as a
    shifting histogram."""
    period = period_of(db, Signal.created_at, grain)
    bin_ = sql.score_bin(db, Signal.score, bins).label("bin")
    with db.reader() as s:
        rows = s.execute(select(period, Signal.name, bin_, func.count().label("n"), func.avg(Signal.score).label("mean"))
                         .where(Signal.created_at >= since, Signal.created_at < until, Signal.score.is_not(None))
                         .group_by(period, Signal.name, bin_).order_by(period)).all()
    frame = _frame(rows, ["period", "detector", "bin", "n", "mean"])
    frame["bin_from"] = frame["bin"] / bins
    return frame


def _decision_seconds(db: Database, since: datetime, until: datetime):
    decided_at = func.coalesce(Decision.approved_at, Decision.decided_at)
    return (select(Decision.decided_at.label("at"), Decision.kind.label("kind"),
                   sql.seconds_between(db, decided_at, MediaItem.scanned_at).label("s"))
            .join(MediaItem, MediaItem.id == Decision.item_id)
            .where(Decision.kind.in_(KINDS), Decision.decided_at >= since, Decision.decided_at < until,
                   Decision.status.in_(DECIDED), MediaItem.scanned_at.is_not(None)))


PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def time_to_decision(db: Database, since: datetime, until: datetime) -> pd.DataFrame:
    """Nearest-rank percentiles of scan-to-decision time (hours), per decision kind, computed in SQL."""
    base = _decision_seconds(db, since, until).cte("d")
    ranked = select(base.c.kind, base.c.s,
                    func.row_number().over(partition_by=base.c.kind, order_by=base.c.s).label("rn"),
                    func.count().over(partition_by=base.c.kind).label("n")).cte("r")
    cols = [func.min(ranked.c.s).filter(ranked.c.rn >= p * ranked.c.n).label(f"p{int(p * 100)}") for p in PERCENTILES]
    with db.reader() as s:
        rows = s.execute(select(ranked.c.kind, func.max(ranked.c.n).label("n"), *cols, func.max(ranked.c.s).label("max"))
                         .group_by(ranked.c.kind).order_by(ranked.c.kind)).all()
    frame = pd.DataFrame(rows, columns=["kind", "n", *[f"p{int(p * 100)}" for p in PERCENTILES], "max"])
    hours = [c for c in frame.columns if c not in ("kind", "n")]
    frame[hours] = (frame[hours].astype(float) / 3600).round(2)
    return frame


def sla_breaches(db: Database, since: datetime, until: datetime, *, sla_hours: float, grain: str = "day") -> pd.DataFrame:
    """Per period: decisions made, and those made later than the review SLA after the scan."""
    base = _decision_seconds(db, since, until).cte("d")
    period = period_of(db, base.c.at, grain)
    with db.reader() as s:
        rows = s.execute(select(period, func.count().label("decided"),
                                func.count().filter(base.c.s > sla_hours * 3600).label("breached"))
                         .group_by(period).order_by(period)).all()
    return _frame(rows, ["period", "decided", "breached"])


def export_csv(frame: pd.DataFrame) -> str:
    """The figures on screen as CSV, with text cells that could start a formula neutralised."""
    return frame_to_csv(frame)
