"""Random sequences of service calls, by random people, never break the lifecycle's promises:
no item is clean without a completed scan, none is released or confirmed without a recorded
human decision, and every change writes exactly one audit event (a refused call writes none)."""
import json
import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from core.commands import items
from core.domain.errors import DomainError
from core.domain.lifecycle import ItemState, Risk
from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.domain.scan import ScanOutcome
from core.models import AuditEvent, Decision, MediaItem
from tests.conftest import enroll

PEOPLE = [Actor(f"{role.value}{n}@firm.test", role) for role in HUMAN_ROLES for n in (1, 2)]
ACTORS = st.sampled_from(PEOPLE + [Actor.system()])
REVIEWERS = st.sampled_from([p for p in PEOPLE if p.role in (Role.REVIEWER, Role.COMPLIANCE_LEAD)])


def outcome_for(risk: Risk) -> ScanOutcome:
    return ScanOutcome(risk=risk, reasons=(f"test verdict {risk}",),
                       unscannable_reason="truncated file" if risk is Risk.UNSCANNABLE else None)


class Lifecycle(RuleBasedStateMachine):
    app = None  # set by the test
    item_ids = Bundle("items")
    decisions = Bundle("decisions")

    def __init__(self):
        super().__init__()
        self.scanned: set[int] = set()
        self.decided: set[int] = set()
        self.mine: set[int] = set()  # the database outlives one example; check this example's items

    def _events(self) -> int:
        with self.app.db.reader() as s:
            return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()

    def _call(self, fn, **kwargs):
        """Run one service call; success must add exactly one event, refusal none."""
        before = self._events()
        try:
            result = fn(self.app.uow(), **kwargs)
        except (DomainError, ValueError):
            assert self._events() == before, f"{fn.__name__} was refused but wrote an audit event"
            return None, False
        assert self._events() == before + 1, f"{fn.__name__} changed something without exactly one event"
        return result, True

    @rule(target=item_ids)
    def register(self):
        item_id, _ = self._call(items.register_item, actor=Actor.system(), source="api",
                                external_id=uuid.uuid4().hex, file_name="upload.jpg")
        self.mine.add(item_id)
        return item_id

    @rule(item=item_ids, actor=ACTORS)
    def begin_scan(self, item, actor):
        self._call(items.begin_scan, actor=actor, item_id=item)

    @rule(item=item_ids, actor=ACTORS, risk=st.sampled_from(list(Risk)))
    def record_scan(self, item, actor, risk):
        _, ok = self._call(items.record_scan_result, actor=actor, item_id=item, outcome=outcome_for(risk))
        if ok:
            self.scanned.add(item)

    @rule(item=item_ids, actor=ACTORS)
    def quarantine(self, item, actor):
        self._call(items.quarantine_item, actor=actor, item_id=item, reason="flagged by a person")

    @rule(item=item_ids, actor=ACTORS)
    def start_review(self, item, actor):
        self._call(items.start_review, actor=actor, item_id=item)

    @rule(item=item_ids, actor=ACTORS)
    def return_to_queue(self, item, actor):
        self._call(items.return_to_queue, actor=actor, item_id=item)

    @rule(item=item_ids, actor=ACTORS)
    def confirm(self, item, actor):
        _, ok = self._call(items.confirm_synthetic, actor=actor, item_id=item, reason_code="generator_traces")
        if ok:
            self.decided.add(item)

    @rule(target=decisions, item=item_ids, actor=ACTORS)
    def request_release(self, item, actor):
        result, ok = self._call(items.request_release, actor=actor, item_id=item, reason_code="false_positive")
        if ok and result[1]:
            self.decided.add(item)
        return result[0] if ok else -1

    @rule(decision=decisions, actor=REVIEWERS)
    def approve_release(self, decision, actor):
        _, ok = self._call(items.approve_release, actor=actor, decision_id=decision)
        if ok:
            with self.app.db.reader() as s:
                self.decided.add(s.get(Decision, decision).item_id)

    @invariant()
    def promises_hold(self):
        with self.app.db.reader() as s:
            rows = s.execute(select(MediaItem.id, MediaItem.state).where(MediaItem.id.in_(self.mine))).all()
            for item_id, state in rows:
                if state == ItemState.CLEAN:
                    assert item_id in self.scanned, f"item {item_id} clean without a scan"
                if state in (ItemState.RELEASED, ItemState.CONFIRMED_SYNTHETIC):
                    assert item_id in self.decided, f"item {item_id} {state} without a human decision"
                    assert item_id in self.scanned, f"item {item_id} {state} but never scanned"
                last = s.execute(select(AuditEvent.after).where(
                    AuditEvent.object_type == "media_item", AuditEvent.object_id == str(item_id),
                    AuditEvent.after.like('%"state"%')).order_by(AuditEvent.seq.desc()).limit(1)).scalar()
                assert json.loads(last)["state"] == state, f"trail disagrees with item {item_id}"


@pytest.mark.slow
def test_random_service_sequences_keep_the_lifecycle_promises(sqlite_app):
    enroll(sqlite_app, *PEOPLE)
    Lifecycle.app = sqlite_app
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=150, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_the_audit_trail_is_intact_after_random_sequences(sqlite_app):
    enroll(sqlite_app, *PEOPLE)
    Lifecycle.app = sqlite_app
    run_state_machine_as_test(Lifecycle, settings=settings(max_examples=5, stateful_step_count=30,
                                                           deadline=None))
    from core.commands.audit import verify_chain
    report = verify_chain(sqlite_app.db, actor=Actor.console("auditor", Role.AUDITOR), key=sqlite_app.settings.audit_key)
    assert report.ok and report.count > 0
