"""Ingest, write-back, quarantine and release, escalation and email over real HTTPS against
the emulator, checked in the emulator's org and its request log."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.adapters.salesforce import effects
from core.commands import items
from core.domain.lifecycle import ItemState
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord
from core.loops import ingest
from core.loops.salesforce_relay import SalesforceRelay
from core.models import MediaItem, OutboxEntry, Quarantine
from tests.conftest import accounts
from tests.sf import DOMAIN

ANALYST = f"kyc.morgan@{DOMAIN}"
SYSTEM = Actor.system()
ALICE, BOB = Actor("alice@firm.test", Role.REVIEWER), Actor("bob@firm.test", Role.COMPLIANCE_LEAD)
_accounts = accounts(ALICE, BOB)


def customer(emu) -> tuple[str, str]:
    account = emu.org.create("Account", {"Name": "Ada Lovelace Holdings"})
    kyc = emu.org.create("KYC_Check__c", {"Name": "KYC-0001", "Account__c": account, "Status__c": "Pending"})
    return account, kyc


def upload(emu, record: str, name: str = "selfie.jpg", data: bytes = b"\xff\xd8\xff\xe0fake", when=None) -> str:
    return emu.upload_file(username=ANALYST, record_id=record, path_on_client=name, data=data, when=when)


def links(emu, document_id: str) -> set[tuple]:
    return {(link["LinkedEntityId"], link["ShareType"], link["Visibility"])
            for link in emu.org.records("ContentDocumentLink") if link["ContentDocumentId"] == document_id}


def held(app, version_id: str) -> MediaItem:
    with app.db.reader() as s:
        return s.execute(select(MediaItem).where(MediaItem.external_id == version_id)).scalar_one()


def scan(app, item_id: int, risk: str) -> None:
    items.begin_scan(app.uow(), actor=SYSTEM, item_id=item_id)
    items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item_id, outcome=ScanOutcome(
        risk=risk, reasons=(f"test says {risk}",), sha256="cd" * 32,
        signals=(SignalRecord(name="spectrum", version="1.0", score=0.91, label="synthetic"),)))


def test_ingest_registers_each_file_with_its_provenance_once(sqlite_app, gateway, emu, tmp_path):
    account, kyc = customer(emu)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    version = upload(emu, kyc, "passport.png", data)
    report = ingest.poll(sqlite_app, gateway)
    assert len(report.registered) == 1
    item = held(sqlite_app, version)
    import hashlib
    assert item.sha256 == hashlib.sha256(data).hexdigest() and item.size_bytes == len(data)
    assert open(item.storage_path, "rb").read() == data
    assert item.source_object == "KYC_Check__c" and item.declared_type == "image/png"
    assert {r["entity_id"] for r in item.linked_records} >= {kyc}
    assert item.provenance["checksum_md5"] == hashlib.md5(data).hexdigest()
    assert ingest.poll(sqlite_app, gateway).registered == []


def test_two_files_in_the_same_second_across_a_poll_boundary_are_both_ingested(sqlite_app, gateway, emu, tmp_path):
    _, kyc = customer(emu)
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    first = upload(emu, kyc, "a.jpg", when=second)
    assert len(ingest.poll(sqlite_app, gateway).registered) == 1
    late = upload(emu, kyc, "b.jpg", when=second)  # committed later, stamped the same second
    report = ingest.poll(sqlite_app, gateway)
    assert [held(sqlite_app, late).id] == report.registered and held(sqlite_app, first)


def test_backfill_walks_history_in_pages(sqlite_app, gateway, emu, tmp_path):
    _, kyc = customer(emu)
    old = datetime.now(UTC) - timedelta(days=30)
    versions = [upload(emu, kyc, f"old{n}.jpg", when=old + timedelta(minutes=n)) for n in range(450)]
    report = ingest.poll(sqlite_app, gateway, since=old - timedelta(days=1))
    assert len(report.registered) == 450 and {held(sqlite_app, v).external_id for v in versions} == set(versions)


def test_scan_results_are_written_back_in_batches_and_retries_change_nothing(sqlite_app, gateway, emu, tmp_path):
    _, kyc = customer(emu)
    versions = [upload(emu, kyc, f"f{n}.jpg") for n in range(5)]
    ingest.poll(sqlite_app, gateway)
    for v in versions:
        scan(sqlite_app, held(sqlite_app, v).id, "low")
    emu.request_log.clear()
    relay = SalesforceRelay(sqlite_app, gateway, owner="relay-test")
    relay.drain()
    cv = emu.org.get(versions[0])
    fields = gateway.cfg.fields
    assert cv[fields.status] == "Verified" and cv[fields.risk] == "low" and cv[fields.sha256] == "cd" * 32
    history = emu.org.records(fields.history_object)
    assert len(history) == 5
    assert emu.request_log.count("PATCH", r"composite/sobjects") == 2  # one update, one upsert for 5 files
    relay.drain()
    assert len(emu.org.records(fields.history_object)) == 5
    assert emu.request_log.count("PATCH", r"composite/sobjects") == 2


def quarantined_file(app, gateway, emu, tmp_path, risk="high"):
    account, kyc = customer(emu)
    version = upload(emu, kyc, "selfie.jpg")
    document = emu.org.get(version)["ContentDocumentId"]
    emu.org.create("ContentDocumentLink", {"ContentDocumentId": document, "LinkedEntityId": account,
                                           "ShareType": "I", "Visibility": "InternalUsers"})
    before = links(emu, document)
    ingest.poll(app, gateway)
    item = held(app, version)
    scan(app, item.id, risk)
    SalesforceRelay(app, gateway, owner="relay-test").drain()
    return item, version, document, before, (account, kyc)


def test_quarantine_cuts_customer_links_keeps_the_owners_and_restricts_sharing(sqlite_app, gateway, emu, tmp_path):
    item, version, document, before, (account, kyc) = quarantined_file(sqlite_app, gateway, emu, tmp_path)
    remaining = links(emu, document)
    assert not {entity for entity, _, _ in remaining} & {account, kyc}
    assert len(remaining) == 1  # the owner's link cannot be removed, and is reported
    assert emu.org.get(version)["SharingPrivacy"] == "P"
    assert emu.org.get(version)[gateway.cfg.fields.status] == "Quarantined"
    with sqlite_app.db.reader() as s:
        q = s.execute(select(Quarantine).where(Quarantine.item_id == item.id)).scalar_one()
    assert {link["entity_id"] for link in q.removed_links} == {account, kyc}


def test_release_restores_every_removed_link_exactly(sqlite_app, gateway, emu, tmp_path):
    item, version, document, before, _ = quarantined_file(sqlite_app, gateway, emu, tmp_path)
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    decision, released = items.request_release(sqlite_app.uow(), actor=ALICE, item_id=item.id,
                                               reason_code="false_positive", note="checked with customer")
    assert not released
    items.approve_release(sqlite_app.uow(), actor=BOB, decision_id=decision)
    SalesforceRelay(sqlite_app, gateway, owner="relay-test").drain()
    assert links(emu, document) == before  # compared link by link: entity, share type, visibility
    assert emu.org.get(version)["SharingPrivacy"] in (None, "N")
    with sqlite_app.db.reader() as s:
        q = s.execute(select(Quarantine).where(Quarantine.item_id == item.id)).scalar_one()
        assert (q.status, q.restore_verified) == ("restored", True)
        assert s.execute(select(OutboxEntry).where(OutboxEntry.status != "done")).first() is None


def test_high_risk_opens_a_case_that_the_decision_closes(sqlite_app, gateway, emu, tmp_path):
    item, *_ = quarantined_file(sqlite_app, gateway, emu, tmp_path)
    cases = [c for c in emu.org.records("Case") if c.get("RD_Item_Id__c") == str(item.id)]
    assert len(cases) == 1 and cases[0]["Status"] == "New" and f"item={item.id}" in cases[0]["Description"]
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    items.confirm_synthetic(sqlite_app.uow(), actor=ALICE, item_id=item.id, reason_code="generator_traces")
    SalesforceRelay(sqlite_app, gateway, owner="relay-test").drain()
    cases = [c for c in emu.org.records("Case") if c.get("RD_Item_Id__c") == str(item.id)]
    assert len(cases) == 1 and cases[0]["Status"] == "Closed"
    assert held(sqlite_app, item.external_id).state == ItemState.CONFIRMED_SYNTHETIC


def test_email_goes_through_email_simple(gateway, emu):
    effects.send_email(gateway, ["dpo@firm.test", "cco@firm.test"], "Incident 7", "Two synthetic selfies found.")
    sent = emu.org.emails
    assert len(sent) == 1 and sent[0]["subject"] == "Incident 7"
    assert sent[0]["to"] == ["dpo@firm.test", "cco@firm.test"] and sent[0]["body"] == "Two synthetic selfies found."


def test_no_salesforce_token_reaches_the_logs_or_the_audit_trail(sqlite_app, gateway, emu, tmp_path, caplog):
    """The session token the org issued is a secret: the whole quarantine and release round trip,
    logged at DEBUG, never writes it (nor the client secret) to a log record or an audit event."""
    import logging

    from core.models import AuditEvent

    caplog.set_level(logging.DEBUG)
    item, *_ = quarantined_file(sqlite_app, gateway, emu, tmp_path)
    items.start_review(sqlite_app.uow(), actor=ALICE, item_id=item.id)
    decision, _ = items.request_release(sqlite_app.uow(), actor=ALICE, item_id=item.id,
                                        reason_code="false_positive", note="checked")
    items.approve_release(sqlite_app.uow(), actor=BOB, decision_id=decision)
    SalesforceRelay(sqlite_app, gateway, owner="relay-test").drain()
    token = gateway._client().session_id
    secrets = [s for s in (token, gateway.cfg.client_secret, gateway.cfg.password) if s]
    assert token and len(token) > 20
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 0
    with sqlite_app.db.reader() as s:
        trail = "\n".join(f"{e.before} {e.after} {e.reason}" for e in s.execute(select(AuditEvent)).scalars())
    assert trail and not [secret for secret in secrets if secret in logged or secret in trail]
