"""Salesforce misbehaving: an expired session mid-batch, bursts of 503s, the API limit, responses
lost after the org applied the change. Nothing is lost and no effect is applied twice, as the
emulator's own request log and records show."""
from collections import Counter

from sqlalchemy import func, select

from core.adapters.salesforce.gateway import SalesforceGateway
from core.commands import items
from core.domain.outbox import RetryPolicy
from core.domain.roles import Actor
from core.domain.scan import ScanOutcome
from core.loops import ingest
from core.loops.salesforce_relay import SalesforceRelay
from core.models import MediaItem, OutboxEntry
from tests.sf import DOMAIN, settings_for

SYSTEM = Actor.system()
NO_WAIT = RetryPolicy(max_attempts=20, base_s=0.0)


def seed(emu, n: int) -> list[str]:
    account = emu.org.create("Account", {"Name": "Faulty Holdings"})
    kyc = emu.org.create("KYC_Check__c", {"Name": "KYC-F", "Account__c": account})
    return [emu.upload_file(username=f"kyc.sam@{DOMAIN}", record_id=kyc, path_on_client=f"id{n}.jpg",
                            data=b"\xff\xd8\xff" + n.to_bytes(4, "big")) for n in range(n)]


def scan_all(app, risk_of) -> None:
    with app.db.reader() as s:
        ids = list(s.execute(select(MediaItem.id).order_by(MediaItem.id)).scalars())
    for n, item_id in enumerate(ids):
        items.begin_scan(app.uow(), actor=SYSTEM, item_id=item_id)
        items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item_id,
                                 outcome=ScanOutcome(risk=risk_of(n), reasons=("fault test",)))


def created_twice(emu) -> list:
    counts = Counter((e["type"], e["id"]) for e in emu.request_log.effects(op="create"))
    return [key for key, n in counts.items() if n > 1]


def pending(app) -> int:
    with app.db.reader() as s:
        return s.execute(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status != "done")).scalar()


def test_a_session_expiring_mid_ingest_loses_no_file(sqlite_app, emu, tmp_path):
    versions = seed(emu, 450)
    emu.faults.expire_session(after=4)  # expires between pages and downloads
    gw = SalesforceGateway(settings_for(emu))
    report = ingest.poll(sqlite_app, gw)
    assert len(report.registered) == 450 and gw.sign_ins == 2
    with sqlite_app.db.reader() as s:
        held = set(s.execute(select(MediaItem.external_id)).scalars())
    assert held == set(versions)


def test_bursts_of_503_and_the_api_limit_delay_effects_but_apply_each_once(sqlite_app, emu, tmp_path):
    seed(emu, 30)
    gw = SalesforceGateway(settings_for(emu))
    ingest.poll(sqlite_app, gw)
    scan_all(sqlite_app, lambda n: "high" if n % 3 == 0 else "low")
    emu.faults.unavailable(times=4, path="composite")
    emu.faults.request_limit_exceeded(times=2, path="query")
    emu.faults.unavailable(times=1, phase="after", path="composite/sobjects/Case")  # applied, answer lost
    relay = SalesforceRelay(sqlite_app, gw, owner="relay-faults", policy=NO_WAIT)
    for _ in range(30):
        relay.run_once()
        if not pending(sqlite_app):
            break
    assert pending(sqlite_app) == 0
    assert created_twice(emu) == []
    fields = gw.cfg.fields
    assert len(emu.org.records(fields.history_object)) == 30
    assert len(emu.org.records("Case")) == 10  # one per high-risk item, the lost answer notwithstanding
    assert all(emu.org.get(v["Id"])[fields.status] in ("Verified", "Quarantined")
               for v in emu.org.records("ContentVersion"))


def test_a_lost_answer_after_links_were_cut_removes_each_link_once(sqlite_app, emu, tmp_path):
    seed(emu, 6)
    gw = SalesforceGateway(settings_for(emu))
    ingest.poll(sqlite_app, gw)
    scan_all(sqlite_app, lambda n: "high")
    emu.faults.drop_connection(times=1, phase="after", method="DELETE")
    relay = SalesforceRelay(sqlite_app, gw, owner="relay-faults", policy=NO_WAIT)
    for _ in range(10):
        relay.run_once()
    assert pending(sqlite_app) == 0
    deletes = Counter(e["id"] for e in emu.request_log.effects(op="delete"))
    assert deletes and max(deletes.values()) == 1
    remaining = [link for link in emu.org.records("ContentDocumentLink")
                 if not link["LinkedEntityId"].startswith("005")]
    assert remaining == []


def test_an_effect_that_keeps_failing_is_parked_as_a_dead_letter(sqlite_app, emu, tmp_path):
    seed(emu, 2)
    gw = SalesforceGateway(settings_for(emu))
    ingest.poll(sqlite_app, gw)
    scan_all(sqlite_app, lambda n: "low")
    emu.faults.unavailable(times=None, path="composite")
    relay = SalesforceRelay(sqlite_app, gw, owner="relay-faults", policy=RetryPolicy(max_attempts=3, base_s=0.0))
    for _ in range(5):
        relay.run_once()
    with sqlite_app.db.reader() as s:
        dead = s.execute(select(OutboxEntry).where(OutboxEntry.status == "dead")).scalars().all()
    assert len(dead) == 2 and all(d.attempts == 3 and "503" in d.last_error for d in dead)
