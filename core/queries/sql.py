"""Portable SQL pieces for the dashboard queries: the same expression on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Date, Integer, case, cast, func, text
from sqlalchemy.sql.elements import ColumnElement

from core.adapters.db import Database

# Signal labels that mean "this detector found nothing"; any other label is a finding.
QUIET_LABELS = ("no_match", "none", "no_manifest", "no_ai_declared", "known_genuine", "genuine", "clean", "low",
                "no_trace_found", "not_applicable")
FLAGGED_RISKS = ("high", "medium", "unscannable")


def day_of(db: Database, column) -> ColumnElement:
    """Calendar day (UTC) of a timestamp column, computed by the database."""
    return func.date(column) if db.is_sqlite else cast(column, Date)


def week_of(db: Database, column) -> ColumnElement:
    """Monday of the ISO week (UTC) of a timestamp column."""
    if db.is_sqlite:
        return func.date(column, "weekday 0", "-6 days")
    return cast(func.date_trunc("week", column), Date)


def minute_of(db: Database, column) -> ColumnElement:
    if db.is_sqlite:
        return func.strftime("%Y-%m-%d %H:%M:00", column)
    return func.date_trunc("minute", column)


def seconds_between(db: Database, later, earlier) -> ColumnElement:
    if db.is_sqlite:
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def score_bin(db: Database, column, bins: int = 10) -> ColumnElement:
    """0..bins-1 for a 0..1 score (1.0 falls in the last bin). SQLite's CAST truncates;
    PostgreSQL's rounds, so it floors first."""
    scaled = column * bins if db.is_sqlite else func.floor(column * bins)
    return case((column >= 1.0, bins - 1), else_=cast(scaled, Integer))


def distinct_values(db: Database, table: str, column: str) -> list[str]:
    """Distinct non-null values of an indexed column by skipping through its index (a loose index
    scan): a handful of index seeks instead of reading every row of a large table."""
    if not (table.isidentifier() and column.isidentifier()):
        raise ValueError(f"not a plain SQL identifier: table {table!r}, column {column!r}")
    sql = text(f"""
        WITH RECURSIVE v(x) AS (
            SELECT MIN({column}) FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL
        )
        SELECT x FROM v WHERE x IS NOT NULL""")
    with db.reader() as s:
        return [row[0] for row in s.execute(sql)]


__all__ = ["QUIET_LABELS", "FLAGGED_RISKS", "day_of", "week_of", "minute_of", "seconds_between",
           "score_bin", "distinct_values"]
