"""Item services on SQLite and PostgreSQL: permissions, four eyes, one transaction per change."""
import json

import pytest
from sqlalchemy import func, select

from core.commands import items
from core.domain.errors import FourEyesViolation, IllegalTransition, NotFound, PermissionDenied
from core.domain.lifecycle import ItemState
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord
from core.models import AuditEvent, Decision, MediaItem, OutboxEntry, Quarantine, Signal, Verdict
from tests.conftest import accounts

SYSTEM = Actor.system()
ALICE = Actor("alice@firm.test", Role.REVIEWER)
BOB = Actor("bob@firm.test", Role.REVIEWER)
CAROL = Actor("carol@firm.test", Role.COMPLIANCE_LEAD)
AUDITOR = Actor("audrey@firm.test", Role.AUDITOR)
RESPONDER, ADMIN = Actor("r@firm.test", Role.RESPONDER), Actor("a@firm.test", Role.ADMIN)
_accounts = accounts(ALICE, BOB, CAROL, AUDITOR, RESPONDER, ADMIN)


def scanned_item(app, risk: str, external_id: str = "cv1") -> int:
    item = items.register_item(app.uow(), actor=SYSTEM, source="salesforce", external_id=external_id,
                               file_name="passport.jpg", source_object="KYC_Check__c")
    items.begin_scan(app.uow(), actor=SYSTEM, item_id=item)
    outcome = ScanOutcome(risk=risk, reasons=(f"{risk} risk",), sha256="ab" * 32, signals=(
        SignalRecord(name="c2pa", version="1", score=None, label="ai_declared", evidence={"state": "Trusted"}),
        SignalRecord(name="spectrum", version="0.1", score=0.93, label="synthetic"),
    ), unscannable_reason="truncated JPEG" if risk == "unscannable" else None)
    items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item, outcome=outcome)
    return item


def get(app, model, ident):
    with app.db.reader() as s:
        return s.get(model, ident)


def events(app) -> list[AuditEvent]:
    """The trail of media items (the people's accounts are set up before each test)."""
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.object_type != "user")
                              .order_by(AuditEvent.seq)).scalars())


def test_registering_twice_changes_nothing(any_app):
    first = items.register_item(any_app.uow(), actor=SYSTEM, source="api", external_id="x", file_name="a.png")
    again = items.register_item(any_app.uow(), actor=SYSTEM, source="api", external_id="x", file_name="a.png")
    assert first == again and len(events(any_app)) == 1


def test_scan_result_stores_verdict_signals_and_quarantine(any_app):
    item = scanned_item(any_app, "high")
    assert get(any_app, MediaItem, item).state == ItemState.QUARANTINED
    with any_app.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Signal).where(Signal.item_id == item)).scalar() == 2
        verdict = s.execute(select(Verdict).where(Verdict.item_id == item)).scalar_one()
        assert verdict.reasons == ["high risk"] and verdict.detector_versions == {"c2pa": "1", "spectrum": "0.1"}
        assert s.execute(select(Quarantine.status).where(Quarantine.item_id == item)).scalar_one() == "active"
    last = events(any_app)[-1]
    assert last.action == "item.scanned" and json.loads(last.after)["state"] == "quarantined"


def test_low_risk_scan_makes_the_item_clean(any_app):
    assert get(any_app, MediaItem, scanned_item(any_app, "low")).state == ItemState.CLEAN


def test_unscannable_is_quarantined_with_its_reason(any_app):
    item = get(any_app, MediaItem, scanned_item(any_app, "unscannable"))
    assert item.state == ItemState.QUARANTINED and item.unscannable_reason == "truncated JPEG"


def test_high_risk_release_needs_a_second_person(any_app):
    item = scanned_item(any_app, "high")
    items.start_review(any_app.uow(), actor=ALICE, item_id=item)
    decision, released = items.request_release(any_app.uow(), actor=ALICE, item_id=item,
                                               reason_code="false_positive", note="customer re-verified")
    assert not released and get(any_app, MediaItem, item).state == ItemState.IN_REVIEW
    with pytest.raises(FourEyesViolation):
        items.approve_release(any_app.uow(), actor=ALICE, decision_id=decision)
    with pytest.raises(IllegalTransition, match="in review by alice"):  # not Bob's item to decide
        items.request_release(any_app.uow(), actor=BOB, item_id=item, reason_code="false_positive")
    for decide in (items.request_release, items.confirm_synthetic):  # nor Alice's twice
        with pytest.raises(IllegalTransition, match="already awaits a second person"):
            decide(any_app.uow(), actor=ALICE, item_id=item, reason_code="other", note="changed my mind")
    items.approve_release(any_app.uow(), actor=CAROL, decision_id=decision)
    assert get(any_app, MediaItem, item).state == ItemState.RELEASED
    d = get(any_app, Decision, decision)
    assert (d.status, d.decided_by, d.approved_by) == ("approved", ALICE.id, CAROL.id)
    with any_app.db.reader() as s:
        # A Salesforce file's links come back through the outbox; the relay confirms the restore.
        assert s.execute(select(Quarantine.status).where(Quarantine.item_id == item)).scalar_one() == "releasing"
        kinds = set(s.execute(select(OutboxEntry.kind).where(OutboxEntry.item_id == item)).scalars())
    assert kinds == {"sf.writeback", "sf.quarantine", "sf.case", "sf.release"}


def test_medium_risk_release_is_immediate(any_app):
    item = scanned_item(any_app, "medium")
    items.start_review(any_app.uow(), actor=ALICE, item_id=item)
    _, released = items.request_release(any_app.uow(), actor=ALICE, item_id=item, reason_code="false_positive")
    assert released and get(any_app, MediaItem, item).state == ItemState.RELEASED


def test_confirm_synthetic_records_the_decision(any_app):
    item = scanned_item(any_app, "high")
    items.start_review(any_app.uow(), actor=BOB, item_id=item)
    decision = items.confirm_synthetic(any_app.uow(), actor=BOB, item_id=item, reason_code="generator_traces")
    assert get(any_app, MediaItem, item).state == ItemState.CONFIRMED_SYNTHETIC
    assert get(any_app, Decision, decision).decided_by == BOB.id


@pytest.mark.parametrize("actor", [AUDITOR, RESPONDER, ADMIN])
def test_roles_without_the_right_cannot_decide(any_app, actor):
    item = scanned_item(any_app, "high")
    before = len(events(any_app))
    for call in (lambda: items.start_review(any_app.uow(), actor=actor, item_id=item),
                 lambda: items.confirm_synthetic(any_app.uow(), actor=actor, item_id=item,
                                                 reason_code="generator_traces")):
        with pytest.raises(PermissionDenied):
            call()
    assert len(events(any_app)) == before


def test_people_cannot_record_scan_results(any_app):
    item = items.register_item(any_app.uow(), actor=SYSTEM, source="api", external_id="p", file_name="a.png")
    items.begin_scan(any_app.uow(), actor=SYSTEM, item_id=item)
    with pytest.raises(PermissionDenied):
        items.record_scan_result(any_app.uow(), actor=CAROL, item_id=item, outcome=ScanOutcome(risk="low"))


def test_a_refused_change_leaves_no_trace(any_app):
    item = scanned_item(any_app, "low")
    before = len(events(any_app))
    with pytest.raises(IllegalTransition):
        items.start_review(any_app.uow(), actor=ALICE, item_id=item)
    with pytest.raises(NotFound):
        items.begin_scan(any_app.uow(), actor=SYSTEM, item_id=999999)
    with pytest.raises(ValueError, match="other"):
        items.confirm_synthetic(any_app.uow(), actor=ALICE, item_id=item, reason_code="other", note=" ")
    assert len(events(any_app)) == before and get(any_app, MediaItem, item).state == ItemState.CLEAN


def test_a_change_and_its_audit_event_commit_together(any_app, monkeypatch):
    """If writing the audit event fails, the state change is rolled back with it."""
    from core.adapters import audit_store

    item = scanned_item(any_app, "high")

    def broken_append(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_store, "append", broken_append)
    with pytest.raises(RuntimeError):
        items.start_review(any_app.uow(), actor=ALICE, item_id=item)
    assert get(any_app, MediaItem, item).state == ItemState.QUARANTINED
