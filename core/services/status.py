"""Health facts the worker publishes (telemetry, not audited): heartbeats, API usage."""
from __future__ import annotations

from core.adapters.db import Database
from core.clock import utcnow
from core.models import ServiceStatus


def publish(db: Database, name: str, data: dict) -> None:
    with db.writer() as s:
        row = s.get(ServiceStatus, name) or ServiceStatus(name=name)
        row.data, row.updated_at = data, utcnow()
        s.add(row)
        s.commit()
