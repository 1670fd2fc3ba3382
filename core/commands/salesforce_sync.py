"""What the org must learn about an item, as outbox rows written in the service's transaction."""
from __future__ import annotations

from sqlalchemy import select

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.quarantine import QuarantineStatus
from core.domain.records import is_customer_record
from core.domain.salesforce import status_for
from core.models import MediaItem, Quarantine, Signal, Verdict

RESTORE_PENDING = (QuarantineStatus.RELEASING, QuarantineStatus.RESTORE_FAILED)


def is_salesforce(item: MediaItem) -> bool:
    return item.source == "salesforce"


def writeback(uow: UnitOfWork, item: MediaItem, key: str) -> None:
    """The item's status now, with the evidence of its latest verdict: a decision or a later quarantine
    changes the status, never blanks the score, detectors or provenance the org already shows."""
    verdict = uow.session.execute(select(Verdict).where(Verdict.item_id == item.id)
                                  .order_by(Verdict.id.desc()).limit(1)).scalar_one_or_none()
    scores = [] if verdict is None else [s for s in uow.session.execute(select(Signal.score).where(
        Signal.verdict_id == verdict.id, Signal.score.is_not(None))).scalars()]
    score = max(scores) if scores else None
    restoring = uow.session.execute(select(Quarantine.id).where(
        Quarantine.item_id == item.id, Quarantine.status.in_(RESTORE_PENDING))).first() is not None
    status = status_for(item.state, item.risk, links_restored=not restoring)
    uow.enqueue("sf.writeback", {
        "version_id": item.external_id, "status": status, "risk": item.risk, "score": score,
        "verified_at": (item.scanned_at or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "sha256": item.sha256,
        "detectors": ", ".join(f"{k}@{v}" for k, v in sorted((verdict.detector_versions if verdict else {}).items())),
        "source": "; ".join(verdict.reasons)[:255] if verdict and verdict.reasons else "no provenance evidence",
        "history_id": f"rd-{item.id}-{key}"}, idempotency_key=f"sf.writeback:{item.id}:{key}", item_id=item.id)


def quarantine(uow: UnitOfWork, item: MediaItem, q: Quarantine) -> None:
    uow.enqueue("sf.quarantine", {"item_id": item.id, "quarantine_id": q.id, "version_id": item.external_id,
                                  "document_id": item.content_document_id},
                idempotency_key=f"sf.quarantine:{q.id}", item_id=item.id)


def release(uow: UnitOfWork, item: MediaItem, q: Quarantine, key: str) -> None:
    """`key`: what releases it (a decision id, or `auto` for a pre-emptive hold on a clean file)."""
    uow.enqueue("sf.release", {"item_id": item.id, "quarantine_id": q.id, "version_id": item.external_id,
                               "document_id": item.content_document_id},
                idempotency_key=f"sf.release:{q.id}:{key}", item_id=item.id)


def case(uow: UnitOfWork, item: MediaItem, *, status: str, summary: str, key: str) -> None:
    """Open (or update) the review Case for a high-risk item; closed later with the decision."""
    uow.enqueue("sf.case", {"item_id": item.id, "status": status, "summary": summary[:32000],
                            "file_name": item.file_name, "version_id": item.external_id,
                            "records": [r["entity_id"] for r in item.linked_records if is_customer_record(r)]},
                idempotency_key=f"sf.case:{item.id}:{key}", item_id=item.id)
