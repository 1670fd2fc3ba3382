"""The worker's own bookkeeping (not domain state, so not audited): heartbeats and API usage for the
Live page, and the ingest watermark. Every change to items, quarantines and messages is a command's."""
from __future__ import annotations

from datetime import datetime

from core.adapters.db import Database
from core.clock import utcnow
from core.models import IngestState, ServiceStatus


def publish(db: Database, name: str, data: dict) -> None:
    with db.writer() as s:
        row = s.get(ServiceStatus, name) or ServiceStatus(name=name)
        row.data, row.updated_at = data, utcnow()
        s.add(row)
        s.commit()


def watermark(db: Database, source: str) -> IngestState:
    with db.reader() as s:
        return s.get(IngestState, source) or IngestState(source=source)


def save_watermark(db: Database, source: str, at: datetime | None, last_id: str | None, error: str | None) -> None:
    """Move the watermark (when `at` is given) and note how the last pass went."""
    with db.writer() as s:
        state = s.get(IngestState, source) or IngestState(source=source)
        if at is not None:
            state.watermark_at, state.watermark_id = at, last_id
        now = utcnow()
        state.updated_at, state.last_error = now, error
        if error is None:
            state.last_success_at = now
        s.add(state)
        s.commit()
