"""What the org must learn about an item, as outbox rows written in the service's transaction."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.quarantine import QuarantineStatus
from core.domain.records import is_customer_record
from core.domain.salesforce import status_for
from core.models import Decision, MediaItem, Quarantine, Signal, Verdict

RESTORE_PENDING = (QuarantineStatus.RELEASING, QuarantineStatus.RESTORE_FAILED)


def is_salesforce(item: MediaItem) -> bool:
    return item.source == "salesforce"


def _facts(item: MediaItem, decision: Decision | None) -> dict[str, Any]:
    """What the history row keeps beside the verdict: the file, where it was linked, who decided and why."""
    linked = "\n".join(f"{r.get('entity_type') or 'Record'} {r['entity_id']} {r.get('entity_name') or ''}".strip()
                       for r in item.linked_records if is_customer_record(r))
    decided_by = None if decision is None else "; ".join(
        filter(None, [decision.decided_by, decision.approved_by and f"approved by {decision.approved_by}"]))
    return {"uploaded_by": item.uploaded_by, "file_type": (item.provenance or {}).get("file_type"),
            "size_bytes": item.size_bytes, "linked_records": linked[:32768] or None,
            "decided_by": (decided_by or "")[:255] or None, "reason_code": decision.reason_code if decision else None,
            "unscannable_reason": (item.unscannable_reason or "")[:255] or None}


def writeback(uow: UnitOfWork, item: MediaItem, key: str, decision: Decision | None = None) -> None:
    """The item's status now, with the evidence of its latest verdict: a decision or a later quarantine
    changes the status, never blanks the score, detectors or provenance the org already shows. The
    history row also keeps who uploaded the file, its type and size, the records it was linked to, and
    the decision's maker and reason or the reason it could not be read."""
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
        "facts": _facts(item, decision),
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
