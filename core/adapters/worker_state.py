"""The worker's own bookkeeping (not domain state, so not audited): heartbeats and API usage for the
Live page, the ingest watermark and the event subscription's replay position. Every change to items,
quarantines and messages is a command's."""
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


REPLAY_ID_BYTES = 16  # kept as hex in watermark_id: 32 characters


def _replay_source(topic: str) -> str:
    return f"pubsub:{topic}"


def replay_position(db: Database, topic: str) -> bytes | None:
    """The replay id of the last event of `topic` the worker has handled, or None: where a new
    subscription resumes, so events published while the worker was away are not lost."""
    state = watermark(db, _replay_source(topic))
    return bytes.fromhex(state.watermark_id) if state.watermark_id else None


def save_replay_position(db: Database, topic: str, replay_id: bytes, at: datetime) -> None:
    if not 0 < len(replay_id) <= REPLAY_ID_BYTES:
        raise ValueError(f"a replay id of {len(replay_id)} bytes does not fit ({REPLAY_ID_BYTES} at most)")
    save_watermark(db, _replay_source(topic), at, replay_id.hex(), None)


def note_subscription(db: Database, topic: str, error: str | None) -> None:
    """How the subscription is going: `error` says why it is down, None that it is up."""
    save_watermark(db, _replay_source(topic), None, None, error)
