"""Numbers you can sign: files attached in the org (over HTTPS to the emulator) to a person account, its
contact, a business account, its contacts, a contact of no account and KYC checks naming them; ingest
reads who each record belongs to; the Incidents page says "Customers affected: N" above a table of
exactly N customers, and the regulator's notice, rendered from the templates, carries the same N."""
import re

from sqlalchemy import select

from core.commands import communications, incidents, items
from core.commands.users import demo_email
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome
from core.loops import ingest
from core.models import MediaItem
from core.queries import incidents as q
from tests.app.test_incident_pages import on
from tests.sf import DOMAIN

SYSTEM = Actor.system()
RESPONDER = Actor(demo_email(Role.RESPONDER), Role.RESPONDER)
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def org_with_customers(emu) -> list[str]:
    """The records files are attached to: three customers behind eight records."""
    org = emu.org
    mara = org.create("Contact", {"FirstName": "Mara", "LastName": "Achterberg"})
    person = org.create("Account", {"Name": "Mara Achterberg", "IsPersonAccount": True, "PersonContactId": mara})
    org.update(mara, {"AccountId": person})
    business = org.create("Account", {"Name": "Okafor Holdings", "IsPersonAccount": False})
    directors = [org.create("Contact", {"FirstName": n, "LastName": "Okafor", "AccountId": business})
                 for n in ("Ada", "Obi")]
    lone = org.create("Contact", {"FirstName": "Ivy", "LastName": "Quinn"})
    checks = [org.create("KYC_Check__c", {"Name": "KYC-0101", "Account__c": person, "Contact__c": mara}),
              org.create("KYC_Check__c", {"Name": "KYC-0102", "Account__c": business, "Contact__c": directors[0]})]
    return [person, mara, business, *directors, lone, *checks]


def test_customers_affected_matches_the_table_and_the_regulator_notice(ui_app, emu, gateway):
    records = org_with_customers(emu)
    for n, record in enumerate(records):
        emu.upload_file(username=f"kyc.morgan@{DOMAIN}", record_id=record, path_on_client=f"id_{n}.jpg",
                        data=JPEG + bytes([n]))
    item_ids = ingest.poll(ui_app, gateway).registered
    assert len(item_ids) == len(records)
    with ui_app.db.reader() as s:  # the org says what each record is: an Account is an Account
        attached = dict(s.execute(select(MediaItem.file_name, MediaItem.source_object)).all())
    assert attached["id_0.jpg"] == attached["id_2.jpg"] == "Account" and attached["id_1.jpg"] == "Contact"
    for item_id in item_ids:
        items.begin_scan(ui_app.uow(), actor=SYSTEM, item_id=item_id)
        items.record_scan_result(ui_app.uow(), actor=SYSTEM, item_id=item_id,
                                 outcome=ScanOutcome(risk="high", reasons=("generator traces",)))
    communications.ensure_demo_contacts(ui_app.uow)
    incident = incidents.declare_incident(ui_app.uow(), actor=RESPONDER, title="Forged IDs across customers",
                                          severity="SEV1", item_ids=item_ids)

    at = on("pages/incidents.py", Role.RESPONDER)
    shown = " ".join(m.value for m in at.markdown)
    count = int(re.search(r"Customers affected: (\d+)", shown).group(1))
    customers = next(df.value for df in at.dataframe if {"kind", "records"} <= set(df.value.columns))
    assert count == len(customers) == customers["id"].nunique() == 3
    assert sorted(zip(customers["name"], customers["kind"])) == [
        ("Ivy Quinn", "Contact"), ("Mara Achterberg", "Person account"), ("Okafor Holdings", "Business account")]
    assert f"Salesforce records: {len(records)}" in shown  # the records table's own count

    notice = q.communication(ui_app.db, communications.create_draft(
        ui_app.uow(), actor=RESPONDER, incident_id=incident, template="regulator_initial", idempotency_key="notice",
        channel="email"))
    assert f"Approximate number of data subjects concerned: {count}." in notice["body_text"]
    assert f"of {count} customer(s)" in notice["body_text"]  # the summary the notice opens with, same count
