"""Commands that move a media item through its lifecycle."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.commands import salesforce_sync as sf
from core.domain.audit_actions import AuditAction
from core.domain.decisions import CONFIRM_REASON_CODES, RELEASE_REASON_CODES, DecisionKind, DecisionStatus, check_reason
from core.domain.decisions import check_transition as check_decision
from core.domain.errors import FourEyesViolation, IllegalTransition, LeaseLost, NotFound, PermissionDenied
from core.domain.lifecycle import UNVERIFIED, Grounds, ItemState, Risk, check_transition, state_after_scan
from core.domain.quarantine import QuarantineStatus, released_status
from core.domain.quarantine import check_transition as check_quarantine
from core.domain.roles import Action, Actor, Role, may
from core.domain.scan import ScanOutcome
from core.models import Decision, MediaItem, Quarantine, Signal, User, Verdict

DEFAULT_QUARANTINE_RISKS = frozenset({Risk.HIGH, Risk.MEDIUM})


def _load(uow: UnitOfWork, item_id: int) -> MediaItem:
    """The item, locked until the transaction ends (PostgreSQL: a second decider waits, then sees
    the first one's result; SQLite's write transaction already holds the database)."""
    item = uow.session.get(MediaItem, item_id, with_for_update=True)
    if item is None:
        raise NotFound(f"media item {item_id} does not exist")
    return item


def _move(uow: UnitOfWork, actor: Actor, item: MediaItem, target: ItemState, action: str, *,
          grounds: Grounds = Grounds(), reason: str | None = None, after_extra: dict[str, Any] | None = None) -> None:
    before = {"state": item.state, "risk": item.risk, "assignee": item.assignee}
    check_transition(ItemState(item.state), target, grounds)
    item.state, item.updated_at = target.value, utcnow()
    uow.session.add(item)
    after = {"state": item.state, "risk": item.risk, "assignee": item.assignee, **(after_extra or {})}
    uow.record(actor, action, "media_item", item.id, before=before, after=after, reason=reason)


def register_item(uow: UnitOfWork, *, actor: Actor, source: str, external_id: str, file_name: str,
                  declared_type: str | None = None, size_bytes: int | None = None,
                  sha256: str | None = None, storage_path: str | None = None,
                  org_id: str | None = None, content_document_id: str | None = None,
                  source_object: str | None = None, uploaded_by: str | None = None,
                  uploaded_at: datetime | None = None, linked_records: Iterable[dict[str, Any]] = (),
                  provenance: dict[str, Any] | None = None) -> int:
    """Record a new file. Registering the same (source, external_id) twice changes nothing."""
    with uow:
        actor = uow.authorize(actor, Action.ITEM_REGISTER)
        existing = uow.session.execute(select(MediaItem.id).where(
            MediaItem.source == source, MediaItem.external_id == external_id)).scalar_one_or_none()
        if existing is not None:
            return int(existing)
        item = MediaItem(source=source, external_id=external_id, file_name=file_name,
                         declared_type=declared_type, size_bytes=size_bytes, sha256=sha256,
                         storage_path=storage_path, org_id=org_id,
                         content_document_id=content_document_id, source_object=source_object,
                         uploaded_by=uploaded_by, uploaded_at=uploaded_at,
                         linked_records=list(linked_records), provenance=dict(provenance or {}))
        uow.session.add(item)
        uow.session.flush()
        uow.record(actor, AuditAction.ITEM_REGISTERED, "media_item", item.id, after={
            "state": item.state, "source": source, "external_id": external_id,
            "file_name": file_name, "sha256": sha256, "size_bytes": size_bytes})
        uow.commit()
        return uow.new_id(item)


def claim_for_scan(uow: UnitOfWork, *, actor: Actor, owner: str, limit: int = 8,
                   lease: timedelta = timedelta(minutes=5), item_id: int | None = None) -> list[int]:
    """A scanner takes up to `limit` items under a lease: new ones, and ones whose scanner's lease ran
    out (a stopped worker). Locked rows another scanner holds are skipped, never waited for."""
    now = utcnow()
    with uow:
        actor = uow.authorize(actor, Action.ITEM_BEGIN_SCAN)
        query = select(MediaItem).where(or_(
            MediaItem.state == ItemState.RECEIVED.value,
            and_(MediaItem.state == ItemState.SCANNING.value, MediaItem.lease_expires_at < now)))
        if item_id is not None:
            query = query.where(MediaItem.id == item_id)
        rows = uow.session.execute(query.order_by(MediaItem.received_at, MediaItem.id).limit(limit)
                                   .with_for_update(skip_locked=True)).scalars().all()
        for item in rows:
            before = {"state": item.state, "lease_owner": item.lease_owner}
            if item.state == ItemState.RECEIVED:
                check_transition(ItemState.RECEIVED, ItemState.SCANNING)
                item.state = ItemState.SCANNING.value
                action = AuditAction.ITEM_SCAN_STARTED
            else:
                action = AuditAction.ITEM_SCAN_LEASE_TAKEN_OVER
            item.scan_attempts += 1
            item.lease_owner, item.lease_expires_at, item.updated_at = owner, now + lease, now
            uow.session.add(item)
            uow.record(actor, action, "media_item", item.id, before=before,
                       after={"state": item.state, "lease_owner": owner, "scan_attempts": item.scan_attempts})
        uow.commit()
        return [item.id for item in rows]


def begin_scan(uow: UnitOfWork, *, actor: Actor, item_id: int) -> None:
    with uow:
        actor = uow.authorize(actor, Action.ITEM_BEGIN_SCAN)
        item = _load(uow, item_id)
        item.scan_attempts += 1
        _move(uow, actor, item, ItemState.SCANNING, AuditAction.ITEM_SCAN_STARTED,
              after_extra={"scan_attempts": item.scan_attempts})
        uow.commit()


def record_scan_result(uow: UnitOfWork, *, actor: Actor, item_id: int, outcome: ScanOutcome,
                       quarantine_risks: frozenset[Risk] = DEFAULT_QUARANTINE_RISKS,
                       lease_owner: str | None = None) -> ItemState:
    """Store the verdict and its signals, then move the item to clean or quarantined.
    With `lease_owner`, only the current holder of the item's scan lease may record."""
    with uow:
        actor = uow.authorize(actor, Action.ITEM_RECORD_SCAN)
        item = _load(uow, item_id)
        if lease_owner is not None and item.lease_owner != lease_owner:
            raise LeaseLost(f"item {item_id}'s scan lease is held by {item.lease_owner}, not {lease_owner}")
        item.lease_owner, item.lease_expires_at = None, None
        target = state_after_scan(outcome.risk, quarantine_risks)
        verdict = Verdict(item_id=item.id, risk=Risk(outcome.risk).value, reasons=list(outcome.reasons),
                          unscannable_reason=outcome.unscannable_reason,
                          detector_versions={s.name: s.version for s in outcome.signals})
        uow.session.add(verdict)
        uow.session.flush()
        for s in outcome.signals:
            uow.session.add(Signal(item_id=item.id, verdict_id=verdict.id, name=s.name, version=s.version,
                                   score=s.score, label=s.label, evidence=s.evidence,
                                   explanation_path=s.explanation_path))
        item.risk, item.scanned_at = verdict.risk, utcnow()
        item.unscannable_reason = outcome.unscannable_reason
        item.sha256 = outcome.sha256 or item.sha256
        quarantine, hold = None, _preemptive_hold(uow, item.id)
        if target is ItemState.QUARANTINED:
            reason = outcome.unscannable_reason or "; ".join(outcome.reasons) or f"risk {verdict.risk}"
            if hold is not None:  # the hold becomes the quarantine: its links are already cut
                hold.reason = f"{reason} (held pre-emptively before the scan)"
                uow.session.add(hold)
            else:
                quarantine = Quarantine(item_id=item.id, reason=reason, started_by=actor.id)
                uow.session.add(quarantine)
                uow.session.flush()
        _move(uow, actor, item, target, AuditAction.ITEM_SCANNED, grounds=Grounds(scan_completed=True),
              reason=outcome.unscannable_reason,
              after_extra={"verdict_id": verdict.id, "reasons": list(outcome.reasons)})
        if target is ItemState.CLEAN and hold is not None:
            _end_hold(uow, actor, item, hold)
        if sf.is_salesforce(item):
            uow.session.flush()
            sf.writeback(uow, item, f"v{verdict.id}")
            if quarantine is not None:
                sf.quarantine(uow, item, quarantine)
            if item.risk == Risk.HIGH:
                sf.case(uow, item, status="New", key="open",
                        summary="Response Desk flagged this file as high risk: " + "; ".join(outcome.reasons))
        uow.commit()
        return target


def _preemptive_hold(uow: UnitOfWork, item_id: int) -> Quarantine | None:
    return uow.session.execute(select(Quarantine).where(
        Quarantine.item_id == item_id, Quarantine.status == QuarantineStatus.ACTIVE, Quarantine.preemptive)).scalar_one_or_none()


def _end_hold(uow: UnitOfWork, actor: Actor, item: MediaItem, hold: Quarantine) -> None:
    """A file held pre-emptively came out clean: restore everything the hold removed."""
    check_quarantine(hold.status, released_status(sf.is_salesforce(item)))
    hold.status, hold.ended_at = released_status(sf.is_salesforce(item)), utcnow()
    uow.session.add(hold)
    if sf.is_salesforce(item):
        sf.release(uow, item, hold, "auto")
    uow.record(actor, AuditAction.ITEM_PREEMPTIVE_HOLD_RELEASED, "media_item", item.id,
               after={"quarantine_id": hold.id}, reason="verified clean")


def hold_preemptively(uow: UnitOfWork, *, actor: Actor, item_id: int, reason: str) -> bool:
    """Fail closed under pressure: cut an unverified file's links until its verdict is in.
    Returns False when there is nothing to hold (already verified, or already held)."""
    with uow:
        actor = uow.authorize(actor, Action.ITEM_QUARANTINE)
        item = _load(uow, item_id)
        if ItemState(item.state) not in UNVERIFIED or _preemptive_hold(uow, item_id) is not None:
            return False
        hold = Quarantine(item_id=item.id, reason=reason, started_by=actor.id, preemptive=True)
        uow.session.add(hold)
        uow.session.flush()
        if sf.is_salesforce(item):
            sf.quarantine(uow, item, hold)
        uow.record(actor, AuditAction.ITEM_PREEMPTIVE_HOLD, "media_item", item.id,
                   after={"quarantine_id": hold.id, "state": item.state}, reason=reason)
        uow.commit()
        return True


def quarantine_item(uow: UnitOfWork, *, actor: Actor, item_id: int, reason: str) -> None:
    """A person (or a later bank match) holds a file that had passed."""
    if not reason.strip():
        raise ValueError("a quarantine needs a reason")
    with uow:
        actor = uow.authorize(actor, Action.ITEM_QUARANTINE)
        item = _load(uow, item_id)
        _move(uow, actor, item, ItemState.QUARANTINED, AuditAction.ITEM_QUARANTINED, reason=reason)
        quarantine = Quarantine(item_id=item.id, reason=reason, started_by=actor.id)
        uow.session.add(quarantine)
        uow.session.flush()
        if sf.is_salesforce(item):
            sf.quarantine(uow, item, quarantine)
            sf.writeback(uow, item, f"q{quarantine.id}")
        uow.commit()


def start_review(uow: UnitOfWork, *, actor: Actor, item_id: int) -> None:
    with uow:
        actor = uow.authorize(actor, Action.ITEM_START_REVIEW)
        item = _load(uow, item_id)
        check_transition(ItemState(item.state), ItemState.IN_REVIEW)
        item.assignee = actor.id
        _move(uow, actor, item, ItemState.IN_REVIEW, AuditAction.ITEM_REVIEW_STARTED)
        uow.commit()


ASSIGNABLE_STATES = frozenset({ItemState.QUARANTINED, ItemState.IN_REVIEW})


def assign_item(uow: UnitOfWork, *, actor: Actor, item_id: int, assignee: str) -> None:
    """A lead hands a held item to a reviewer. The state does not change: the reviewer claims it."""
    with uow:
        actor = uow.authorize(actor, Action.ITEM_ASSIGN)
        item = _load(uow, item_id)
        if ItemState(item.state) not in ASSIGNABLE_STATES:
            raise IllegalTransition(f"item {item.id} is {item.state}: only held items wait for a reviewer")
        user = uow.session.execute(select(User).where(User.email == assignee.strip().lower())).scalar_one_or_none()
        if user is None or not user.active:
            raise NotFound(f"no active user {assignee}")
        if not may(Actor(user.email, Role(user.role)), Action.ITEM_START_REVIEW):
            raise PermissionDenied(f"{user.email} ({user.role}) does not review items")
        before = {"assignee": item.assignee}
        item.assignee, item.updated_at = user.email, utcnow()
        uow.session.add(item)
        uow.record(actor, AuditAction.ITEM_ASSIGNED, "media_item", item.id, before=before,
                   after={"assignee": item.assignee, "state": item.state})
        uow.commit()


def return_to_queue(uow: UnitOfWork, *, actor: Actor, item_id: int, reason: str = "") -> None:
    with uow:
        actor = uow.authorize(actor, Action.ITEM_RETURN_TO_QUEUE)
        item = _load(uow, item_id)
        check_transition(ItemState(item.state), ItemState.QUARANTINED)
        item.assignee = None
        _move(uow, actor, item, ItemState.QUARANTINED, AuditAction.ITEM_RETURNED_TO_QUEUE, reason=reason or None)
        uow.commit()


def _decide(uow: UnitOfWork, actor: Actor, item: MediaItem, kind: str, reason_code: str, note: str,
            status: DecisionStatus = DecisionStatus.FINAL) -> Decision:
    decision = Decision(item_id=item.id, kind=kind, status=status, reason_code=reason_code,
                        note=note, decided_by=actor.id)
    uow.session.add(decision)
    uow.session.flush()
    return decision


def _check_claim(uow: UnitOfWork, item: MediaItem, actor: Actor) -> None:
    """Only the reviewer who holds an item in review decides it, once: two people never decide one
    item, and a release waiting for its second pair of eyes is not overtaken by another decision."""
    if ItemState(item.state) is ItemState.IN_REVIEW and item.assignee != actor.id:
        raise IllegalTransition(f"item {item.id} is in review by {item.assignee or 'nobody'}: "
                                "only the person who claimed it decides it")
    if uow.session.execute(select(Decision.id).where(
            Decision.item_id == item.id, Decision.status == DecisionStatus.PENDING_APPROVAL)).first():
        raise IllegalTransition(f"a release of item {item.id} already awaits a second person's approval")


def _deciding(uow: UnitOfWork, actor: Actor, item_id: int, action: Action,
              target: ItemState) -> tuple[Actor, MediaItem]:
    """The decider, authorised now, and the item they hold, locked: ready for a decision to `target`."""
    actor = uow.authorize(actor, action)
    item = _load(uow, item_id)
    check_transition(ItemState(item.state), target, Grounds(human_decision=True))
    _check_claim(uow, item, actor)
    return actor, item


def confirm_synthetic(uow: UnitOfWork, *, actor: Actor, item_id: int, reason_code: str,
                      note: str = "") -> int:
    check_reason(reason_code, CONFIRM_REASON_CODES, note)
    with uow:
        actor, item = _deciding(uow, actor, item_id, Action.ITEM_CONFIRM_SYNTHETIC, ItemState.CONFIRMED_SYNTHETIC)
        decision = _decide(uow, actor, item, DecisionKind.CONFIRM_SYNTHETIC, reason_code, note)
        item.decided_at = decision.decided_at
        _move(uow, actor, item, ItemState.CONFIRMED_SYNTHETIC, AuditAction.ITEM_CONFIRMED_SYNTHETIC,
              grounds=Grounds(human_decision=True), reason=f"{reason_code}: {note}".strip(": "),
              after_extra={"decision_id": decision.id})
        from core.commands.hashbank import bank_confirmed_item  # its hashes join the bank, same commit

        bank_confirmed_item(uow, actor=actor, item_id=item.id, decision_id=decision.id)
        _tell_salesforce_of_decision(uow, item, decision)
        uow.commit()
        return uow.new_id(decision)


def _latest_risk(uow: UnitOfWork, item_id: int) -> str | None:
    return uow.session.execute(select(Verdict.risk).where(Verdict.item_id == item_id)
                               .order_by(Verdict.id.desc()).limit(1)).scalar_one_or_none()


def _tell_salesforce_of_decision(uow: UnitOfWork, item: MediaItem, decision: Decision) -> None:
    if sf.is_salesforce(item):
        sf.writeback(uow, item, f"d{decision.id}", decision)
        sf.case(uow, item, status="Closed", key=f"d{decision.id}",
                summary=f"Decision by {decision.decided_by}: {decision.kind} ({decision.reason_code}) {decision.note}")


def _release(uow: UnitOfWork, actor: Actor, item: MediaItem, decision: Decision, action: str) -> None:
    """Release ends every active quarantine. In Salesforce the removed links come back through
    the outbox; the quarantine reads `releasing` until the relay has re-read and matched them."""
    item.decided_at = utcnow()
    for q in uow.session.execute(select(Quarantine).where(
            Quarantine.item_id == item.id, Quarantine.status == QuarantineStatus.ACTIVE)).scalars():
        check_quarantine(q.status, released_status(sf.is_salesforce(item)))
        q.status, q.ended_at = released_status(sf.is_salesforce(item)), item.decided_at
        uow.session.add(q)
        if sf.is_salesforce(item):
            sf.release(uow, item, q, f"d{decision.id}")
    _move(uow, actor, item, ItemState.RELEASED, action, grounds=Grounds(human_decision=True),
          reason=f"{decision.reason_code}: {decision.note}".strip(": "),
          after_extra={"decision_id": decision.id})
    _tell_salesforce_of_decision(uow, item, decision)


def request_release(uow: UnitOfWork, *, actor: Actor, item_id: int, reason_code: str,
                    note: str = "") -> tuple[int, bool]:
    """Release an item under review. A high-risk verdict needs a second person's approval:
    then the decision waits and the item stays in review. Returns (decision id, released)."""
    check_reason(reason_code, RELEASE_REASON_CODES, note)
    with uow:
        actor, item = _deciding(uow, actor, item_id, Action.ITEM_REQUEST_RELEASE, ItemState.RELEASED)
        if _latest_risk(uow, item.id) == Risk.HIGH:
            decision = _decide(uow, actor, item, DecisionKind.RELEASE, reason_code, note,
                               status=DecisionStatus.PENDING_APPROVAL)
            uow.record(actor, AuditAction.ITEM_RELEASE_REQUESTED, "media_item", item.id,
                       after={"decision_id": decision.id, "status": DecisionStatus.PENDING_APPROVAL},
                       reason=f"{reason_code}: {note}".strip(": "))
            uow.commit()
            return uow.new_id(decision), False
        decision = _decide(uow, actor, item, DecisionKind.RELEASE, reason_code, note)
        _release(uow, actor, item, decision, AuditAction.ITEM_RELEASED)
        uow.commit()
        return uow.new_id(decision), True


def approve_release(uow: UnitOfWork, *, actor: Actor, decision_id: int) -> None:
    """The second pair of eyes on a high-risk release. Nobody approves their own request."""
    with uow:
        actor = uow.authorize(actor, Action.ITEM_APPROVE_RELEASE)
        decision = uow.session.get(Decision, decision_id, with_for_update=True)
        if decision is None or decision.kind != DecisionKind.RELEASE or decision.status != DecisionStatus.PENDING_APPROVAL:
            raise NotFound(f"no release awaiting approval with id {decision_id}")
        if decision.decided_by == actor.id:
            raise FourEyesViolation("the person who asked for a release cannot approve it")
        item = _load(uow, decision.item_id)
        check_decision(decision.status, DecisionStatus.APPROVED)
        decision.status, decision.approved_by, decision.approved_at = DecisionStatus.APPROVED, actor.id, utcnow()
        uow.session.add(decision)
        _release(uow, actor, item, decision, AuditAction.ITEM_RELEASED)
        uow.commit()
