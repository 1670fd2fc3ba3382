"""Hash banks in the database (SQLite and PostgreSQL): CSV round trip, audited writes, and the
confirm-synthetic hook that adds a confirmed item's hashes to the known-synthetic bank."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.commands import hashbank, items
from core.domain.errors import PermissionDenied
from core.domain.lifecycle import Risk
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord
from core.models import AuditEvent, HashBankEntry
from core.verification.hashbank import DatabaseHashBank
from tests.conftest import accounts

LEAD = Actor("lead@example.com", Role.COMPLIANCE_LEAD)
REVIEWER = Actor("rev@example.com", Role.REVIEWER)
_accounts = accounts(LEAD, REVIEWER)
CSV = ("bank,sha256,phash,source,note\n"
       f"known_synthetic,{'ab' * 32},0123456789abcdef,vendor feed,\"generated, 2025\"\n"
       "known_genuine,,fedcba9876543210,press office,verified portrait\n")


def _actions(app) -> list[str]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent.action).where(AuditEvent.object_type != "user")
                              .order_by(AuditEvent.seq)).scalars())


def test_csv_import_and_export_round_trip_with_audit(any_app):
    added, skipped = hashbank.import_csv(any_app.uow(), actor=LEAD, fh=io.StringIO(CSV), file_label="feed.csv")
    assert (added, skipped) == (2, 0)
    assert hashbank.import_csv(any_app.uow(), actor=LEAD, fh=io.StringIO(CSV)) == (0, 2)
    out = io.StringIO()
    assert hashbank.export_csv(any_app.uow(), actor=LEAD, fh=out) == 2
    assert out.getvalue().replace("\r\n", "\n") == CSV
    assert _actions(any_app) == ["hashbank.imported", "hashbank.imported", "hashbank.exported"]
    bank = DatabaseHashBank(any_app.db)
    assert [m.bank for m in bank.match("ab" * 32, [], 10)] == ["known_synthetic"]
    assert [m.distance for m in bank.match(None, ["fedcba9876543211"], 10)] == [1]


def test_a_bad_csv_writes_nothing_and_only_managers_may_import(any_app):
    bad = CSV + "known_synthetic,not-a-hash,,feed,\n"
    with pytest.raises(ValueError, match="line 4"):
        hashbank.import_csv(any_app.uow(), actor=LEAD, fh=io.StringIO(bad))
    with pytest.raises(PermissionDenied):
        hashbank.import_csv(any_app.uow(), actor=REVIEWER, fh=io.StringIO(CSV))
    with any_app.db.reader() as s:
        assert s.execute(select(HashBankEntry)).first() is None


def test_confirming_an_item_adds_its_hashes_to_the_synthetic_bank_in_the_same_commit(any_app):
    system = Actor.system()
    sha, ph = "cd" * 32, "00ff00ff00ff00ff"
    item_id = items.register_item(any_app.uow(), actor=system, source="api", external_id="v9",
                                  file_name="face.jpg", sha256=sha)
    items.begin_scan(any_app.uow(), actor=system, item_id=item_id)
    outcome = ScanOutcome(risk=Risk.HIGH, reasons=("generator metadata: ComfyUI prompt graph",), sha256=sha,
                          signals=(SignalRecord("hash", "1", None, "no_match", {"sha256": sha, "phash": ph}),))
    items.record_scan_result(any_app.uow(), actor=system, item_id=item_id, outcome=outcome)
    items.start_review(any_app.uow(), actor=REVIEWER, item_id=item_id)
    bank = DatabaseHashBank(any_app.db)
    assert bank.match(sha, [], 10) == []
    decision_id = items.confirm_synthetic(any_app.uow(), actor=REVIEWER, item_id=item_id,
                                          reason_code="generator_traces")
    with any_app.db.reader() as s:
        entry = s.execute(select(HashBankEntry)).scalar_one()
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "hashbank.entry_added")).scalar_one()
        confirm = s.execute(select(AuditEvent).where(AuditEvent.action == "item.confirmed_synthetic")).scalar_one()
    assert (entry.bank, entry.sha256, entry.phash, entry.item_id) == ("known_synthetic", sha, ph, item_id)
    assert entry.added_by == REVIEWER.id and f"decision {decision_id}" in entry.note
    assert event.correlation_id == confirm.correlation_id and event.actor == REVIEWER.id
    matches = bank.refresh().match(None, ["00ff00ff00ff00fe"], 10)
    assert [(m.entry_id, m.distance) for m in matches] == [(entry.id, 1)]
