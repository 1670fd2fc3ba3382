"""What the org is told about a file stays true through its life: a decision changes the status and
keeps the evidence (score, detectors, provenance) the verdict wrote, and a release whose links cannot be
restored never reads "Released" in the org while the dashboard and the trail show the failure."""
from sqlalchemy import select

from core.commands import items
from core.domain.quarantine import QuarantineStatus
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome
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


def test_the_history_row_keeps_who_uploaded_what_where_and_who_decided_why(sqlite_app, gateway, emu):
    _, kyc = customer(emu)
    version = upload(emu, kyc, "passport.jpg")
    ingest.poll(sqlite_app, gateway)
    item = held(sqlite_app, version)
    scan(sqlite_app, item.id, "high")
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    items.confirm_synthetic(sqlite_app.uow(), actor=ALICE, item_id=item.id, reason_code="generator_traces")
    SalesforceRelay(sqlite_app, gateway, owner="relay-test").drain()
    fields = gateway.cfg.fields
    rows = [r for r in emu.org.records(fields.history_object) if r["RD_Content_Version_Id__c"] == version]
    decided = next(r for r in rows if r["RD_Decided_By__c"])
    assert decided["RD_Decided_By__c"] == ALICE.id and decided["RD_Reason_Code__c"] == "generator_traces"
    assert decided["RD_Uploaded_By__c"] == emu.org.get(version)["CreatedById"]
    assert decided["RD_File_Type__c"] and decided["RD_Size_Bytes__c"] == emu.org.get(version)["ContentSize"]
    assert kyc in decided["RD_Linked_Records__c"]


def test_an_unreadable_file_says_why_in_its_history(sqlite_app, gateway, emu):
    _, kyc = customer(emu)
    version = upload(emu, kyc, "broken.jpg")
    ingest.poll(sqlite_app, gateway)
    item = held(sqlite_app, version)
    items.begin_scan(sqlite_app.uow(), actor=Actor.system(), item_id=item.id)
    items.record_scan_result(sqlite_app.uow(), actor=Actor.system(), item_id=item.id, outcome=ScanOutcome(
        risk="unscannable", unscannable_reason="the JPEG ends before its first frame"))
    SalesforceRelay(sqlite_app, gateway, owner="relay-test").drain()
    fields = gateway.cfg.fields
    [row] = [r for r in emu.org.records(fields.history_object) if r["RD_Content_Version_Id__c"] == version]
    assert row["RD_Unscannable_Reason__c"] == "the JPEG ends before its first frame"
    assert emu.org.get(version)[fields.status] == "Unscannable"


def test_a_quarantine_revokes_public_links_and_a_release_makes_them_again(sqlite_app, gateway, emu):
    _, kyc = customer(emu)
    version = upload(emu, kyc)
    owner = emu.org.get(version)["OwnerId"]
    public = emu.org.create("ContentDistribution", {"Name": "For the customer", "ContentVersionId": version,
                                                    "PreferencesAllowViewInBrowser": True, "OwnerId": owner})
    old_url = emu.org.get(public)["DistributionPublicUrl"]
    ingest.poll(sqlite_app, gateway)
    item = held(sqlite_app, version)
    scan(sqlite_app, item.id, "medium")
    relay = SalesforceRelay(sqlite_app, gateway, owner="relay-test")
    relay.drain()
    document = emu.org.get(version)["ContentDocumentId"]
    live = [d for d in emu.org.records("ContentDistribution") if d["ContentDocumentId"] == document]
    assert live == []  # nobody outside can read a held file through an old link
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    items.request_release(sqlite_app.uow(), actor=ALICE, item_id=item.id, reason_code="false_positive")
    relay.drain()
    [again] = [d for d in emu.org.records("ContentDistribution") if d["ContentDocumentId"] == document]
    assert again["Name"] == "For the customer" and again["DistributionPublicUrl"] != old_url
    assert emu.org.get(version)[fields_of(gateway).status] == "Released"
    with sqlite_app.db.reader() as s:
        [restored] = s.execute(select(AuditEvent).where(AuditEvent.action == "salesforce.links_restored")).scalars()
    assert again["DistributionPublicUrl"] in restored.after


def fields_of(gateway):
    return gateway.cfg.fields
