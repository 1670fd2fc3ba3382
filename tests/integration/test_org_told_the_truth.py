"""What the org is told about a file stays true through its life: a decision changes the status and
keeps the evidence (score, detectors, provenance) the verdict wrote, and a release whose links cannot be
restored never reads "Released" in the org while the dashboard and the trail show the failure."""
from sqlalchemy import select

from core.commands import items
from core.domain.quarantine import QuarantineStatus
from core.domain.roles import Actor, Role
from core.loops import ingest
from core.loops.salesforce_relay import SalesforceRelay
from core.models import AuditEvent, Quarantine
from core.queries.health import health
from tests.conftest import accounts
from tests.integration.test_salesforce_flows import customer, held, scan, upload

ALICE = Actor("alice@firm.test", Role.REVIEWER)
_accounts = accounts(ALICE)


def test_a_decision_keeps_the_evidence_the_verdict_wrote(sqlite_app, gateway, emu):
    _, kyc = customer(emu)
    version = upload(emu, kyc)
    ingest.poll(sqlite_app, gateway)
    item = held(sqlite_app, version)
    scan(sqlite_app, item.id, "high")
    relay = SalesforceRelay(sqlite_app, gateway, owner="relay-test")
    relay.drain()
    fields = gateway.cfg.fields
    scanned = {f: emu.org.get(version)[f] for f in (fields.score, fields.detector_versions, fields.provenance_source)}
    assert scanned[fields.score] == 0.91 and "spectrum@1.0" in scanned[fields.detector_versions]
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    items.confirm_synthetic(sqlite_app.uow(), actor=ALICE, item_id=item.id, reason_code="generator_traces")
    relay.drain()
    decided = emu.org.get(version)
    assert decided[fields.status] == "Confirmed synthetic"
    assert {f: decided[f] for f in scanned} == scanned


def test_a_release_whose_links_cannot_come_back_is_never_released_in_the_org(sqlite_app, gateway, emu):
    _, kyc = customer(emu)
    version = upload(emu, kyc)
    ingest.poll(sqlite_app, gateway)
    item = held(sqlite_app, version)
    scan(sqlite_app, item.id, "medium")
    relay = SalesforceRelay(sqlite_app, gateway, owner="relay-test")
    relay.drain()
    fields = gateway.cfg.fields
    assert emu.org.get(version)[fields.status] == "Quarantined"
    emu.org.delete(kyc)  # the record the file belonged to is gone: its link cannot be restored
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    items.request_release(sqlite_app.uow(), actor=ALICE, item_id=item.id, reason_code="false_positive")
    relay.drain()
    assert emu.org.get(version)[fields.status] != "Released"
    with sqlite_app.db.reader() as s:
        q = s.execute(select(Quarantine).where(Quarantine.item_id == item.id)).scalar_one()
        failed = s.execute(select(AuditEvent).where(AuditEvent.action == "salesforce.restore_failed")).scalars().all()
    assert q.status == QuarantineStatus.RESTORE_FAILED and [e.object_id for e in failed] == [str(item.id)]
    assert health(sqlite_app.db)["restore_failed"] == 1  # the Live page's banner reads this
