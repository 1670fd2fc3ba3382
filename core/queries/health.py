"""Health of the pipeline, for the Live page and the worker's /metrics."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.adapters.db import Database
from core.clock import utcnow
from core.domain.lifecycle import UNVERIFIED
from core.domain.quarantine import QuarantineStatus
from core.models import IngestState, MediaItem, OutboxEntry, Quarantine, ServiceStatus, Verdict


def health(db: Database) -> dict:
    now = utcnow()
    with db.reader() as s:
        unverified = [x.value for x in UNVERIFIED]
        depth = s.execute(select(func.count()).select_from(MediaItem).where(MediaItem.state.in_(unverified))).scalar_one()
        oldest = s.execute(select(func.min(MediaItem.received_at)).where(MediaItem.state.in_(unverified))).scalar_one()
        recent = s.execute(select(func.count()).select_from(Verdict)
                           .where(Verdict.created_at >= now - timedelta(minutes=5))).scalar_one()
        outbox = dict(s.execute(select(OutboxEntry.status, func.count()).where(OutboxEntry.status != "done")
                                .group_by(OutboxEntry.status)).all())
        statuses = {row.name: row for row in s.execute(select(ServiceStatus)).scalars()}
        ingest = s.get(IngestState, "salesforce")
        restore_failed = s.execute(select(func.count()).select_from(Quarantine).where(
            Quarantine.status == QuarantineStatus.RESTORE_FAILED)).scalar_one()
        latest_dead = s.execute(select(OutboxEntry.last_error).where(OutboxEntry.status == "dead")
                                .order_by(OutboxEntry.id.desc()).limit(1)).scalar_one_or_none()
    workers = {name.split(":", 1)[1]: (now - row.updated_at).total_seconds()
               for name, row in statuses.items() if name.startswith("worker:")}
    api = statuses.get("salesforce_api")
    return {
        "queue_depth": depth,
        "oldest_unverified_s": None if oldest is None else (now - oldest).total_seconds(),
        "scan_rate_per_min": recent / 5.0,
        "outbox_backlog": outbox.get("pending", 0),
        "dead_letters": outbox.get("dead", 0),
        "latest_dead_letter": latest_dead,  # why the newest dead letter failed: it names what is missing
        "restore_failed": restore_failed,
        "api_used": api.data.get("used") if api else None,
        "api_limit": api.data.get("limit") if api else None,
        "last_poll_s": None if ingest is None or ingest.last_success_at is None
        else (now - ingest.last_success_at).total_seconds(),
        "last_poll_error": ingest.last_error if ingest else None,
        "worker_heartbeat_s": min(workers.values()) if workers else None,
        "workers": workers,
    }


def prometheus(h: dict) -> str:
    """The same facts in the Prometheus text exposition format."""
    def gauge(name: str, help_text: str, value) -> list[str]:
        return [f"# HELP responsedesk_{name} {help_text}", f"# TYPE responsedesk_{name} gauge",
                f"responsedesk_{name} {'NaN' if value is None else float(value)}"]

    lines = []
    lines += gauge("queue_depth", "Items waiting for a verdict.", h["queue_depth"])
    lines += gauge("oldest_unverified_seconds", "Age of the oldest item without a verdict.", h["oldest_unverified_s"])
    lines += gauge("scan_rate_per_minute", "Verdicts per minute over the last 5 minutes.", h["scan_rate_per_min"])
    lines += gauge("outbox_backlog", "Effects waiting to be performed.", h["outbox_backlog"])
    lines += gauge("dead_letters", "Effects parked after their last attempt.", h["dead_letters"])
    lines += gauge("salesforce_api_used", "API calls used in the org's 24-hour window.", h["api_used"])
    lines += gauge("salesforce_api_limit", "The org's 24-hour API call limit.", h["api_limit"])
    lines += gauge("last_successful_poll_age_seconds", "Since the last successful Salesforce poll.", h["last_poll_s"])
    lines += gauge("worker_heartbeat_age_seconds", "Since the freshest worker heartbeat.", h["worker_heartbeat_s"])
    return "\n".join(lines) + "\n"


DEAD_LETTER_COLUMNS = ["id", "kind", "item_id", "attempts", "last_error", "created_at"]


def dead_letters(db: Database, limit: int = 200):
    """Effects parked after their last attempt, newest first, for admins to inspect and requeue."""
    import pandas as pd

    with db.reader() as s:
        rows = s.execute(select(*[getattr(OutboxEntry, c) for c in DEAD_LETTER_COLUMNS])
                         .where(OutboxEntry.status == "dead").order_by(OutboxEntry.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=DEAD_LETTER_COLUMNS)
