"""Queries about media items for the Live and Review pages."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy import func, select

from core.adapters.db import Database
from core.clock import utcnow
from core.domain.lifecycle import HELD, UNVERIFIED, ItemState
from core.models import MediaItem


def state_counts(db: Database) -> dict[str, int]:
    with db.reader() as s:
        rows = s.execute(select(MediaItem.state, func.count()).group_by(MediaItem.state)).all()
    counts = {state.value: 0 for state in ItemState}
    counts.update({state: n for state, n in rows})
    return counts


def live_summary(db: Database) -> dict[str, object]:
    """Headline numbers for responders: verified in recent windows, held, waiting, oldest backlog."""
    now = utcnow()
    with db.reader() as s:
        def verified_since(delta: timedelta) -> int:
            return s.execute(select(func.count()).select_from(MediaItem)
                             .where(MediaItem.scanned_at >= now - delta)).scalar_one()

        oldest = s.execute(select(func.min(MediaItem.received_at))
                           .where(MediaItem.state.in_([x.value for x in UNVERIFIED]))).scalar_one()
        flagged_day = s.execute(select(func.count()).select_from(MediaItem).where(
            MediaItem.scanned_at >= now - timedelta(days=1),
            MediaItem.risk.in_(["high", "medium", "unscannable"]))).scalar_one()
        summary = {
            "verified_15m": verified_since(timedelta(minutes=15)),
            "verified_1h": verified_since(timedelta(hours=1)),
            "verified_24h": verified_since(timedelta(days=1)),
            "flagged_24h": flagged_day,
        }
    counts = state_counts(db)
    summary.update({
        "held_now": sum(counts[s.value] for s in HELD),
        "awaiting_review": counts[ItemState.QUARANTINED.value],
        "in_review": counts[ItemState.IN_REVIEW.value],
        "unverified": sum(counts[s.value] for s in UNVERIFIED),
        "oldest_unverified_s": None if oldest is None else (now - oldest).total_seconds(),
    })
    return summary


QUEUE_COLUMNS = ["id", "file_name", "state", "risk", "source_object", "assignee", "received_at",
                 "scanned_at", "unscannable_reason"]


def review_queue(db: Database, limit: int = 500) -> pd.DataFrame:
    """Items waiting for a person, oldest first (the SLA clock runs from the scan)."""
    columns = [getattr(MediaItem, c) for c in QUEUE_COLUMNS]
    with db.reader() as s:
        rows = s.execute(select(*columns).where(MediaItem.state.in_(
            [ItemState.QUARANTINED.value, ItemState.IN_REVIEW.value]))
            .order_by(MediaItem.scanned_at.asc(), MediaItem.id.asc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def verdict_report(db: Database, item_id: int) -> dict | None:
    """The item's latest verdict in the scan report's shape, or None while it has none."""
    from core.domain.scan import outcome_report
    from core.models import Signal, Verdict

    with db.reader() as s:
        item = s.get(MediaItem, item_id)
        verdict = s.execute(select(Verdict).where(Verdict.item_id == item_id)
                            .order_by(Verdict.id.desc()).limit(1)).scalar_one_or_none()
        if item is None or verdict is None:
            return None
        signals = s.execute(select(Signal).where(Signal.verdict_id == verdict.id).order_by(Signal.id)).scalars().all()
    from core.domain.scan import ScanOutcome, SignalRecord

    outcome = ScanOutcome(risk=verdict.risk, reasons=tuple(verdict.reasons), sha256=item.sha256,
                          unscannable_reason=verdict.unscannable_reason,
                          signals=tuple(SignalRecord(x.name, x.version, x.score, x.label, x.evidence,
                                                     x.explanation_path) for x in signals))
    return {**outcome_report(item.file_name, outcome), "item_id": item.id, "state": item.state}
