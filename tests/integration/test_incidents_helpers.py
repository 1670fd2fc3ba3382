"""Shared set-up for the incident and communication tests (no tests here: a helper module whose
name matches the files this feature owns)."""
from __future__ import annotations

from core.bootstrap import App
from core.commands import communications, incidents, items
from core.commands.users import create_user, demo_email
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord

SYSTEM = Actor.system()
RESPONDER = Actor(demo_email(Role.RESPONDER), Role.RESPONDER)
REVIEWER = Actor(demo_email(Role.REVIEWER), Role.REVIEWER)
COMPLIANCE = Actor(demo_email(Role.COMPLIANCE_LEAD), Role.COMPLIANCE_LEAD)
COMPLIANCE_2 = Actor("second.compliance@demo.responsedesk.local", Role.COMPLIANCE_LEAD)
AUDITOR = Actor(demo_email(Role.AUDITOR), Role.AUDITOR)

LINKS = [
    [{"link_id": "06A1", "entity_id": "001A", "entity_type": "Account", "entity_name": "Okafor Family Trust"},
     {"link_id": "06A2", "entity_id": "a0K1", "entity_type": "KYC_Check__c", "entity_name": "KYC-0001",
      "Account__c": "001A"},
     {"link_id": "06A3", "entity_id": "005X", "entity_type": "User", "entity_name": "Morgan Lee"}],
    [{"link_id": "06B1", "entity_id": "a0K2", "entity_type": "KYC_Check__c", "entity_name": "KYC-0002",
      "Account__c": "001B"},
     {"link_id": "06B2", "entity_id": "003C", "entity_type": "Contact", "entity_name": "Ines <b>Duarte</b>"}],
]


def flagged_items(app: App, n: int = 2) -> list[int]:
    """Files scanned high risk, linked to customer records (Accounts, KYC checks, a Contact)."""
    ids = []
    for k in range(n):
        item = items.register_item(app.uow(), actor=SYSTEM, source="api", external_id=f"ext-{k}",
                                   file_name=f"passport-{k}.jpg", sha256=f"{k:02d}" * 32,
                                   uploaded_by="005X", linked_records=LINKS[k % len(LINKS)])
        items.begin_scan(app.uow(), actor=SYSTEM, item_id=item)
        items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item, outcome=ScanOutcome(
            risk="high", reasons=("generator traces in the frequency spectrum",), sha256=f"{k:02d}" * 32,
            signals=(SignalRecord("spectrum_mlp", "1.0", 0.97 - k / 100, "synthetic"),
                     SignalRecord("c2pa", "0.38", None, "no_manifest"))))
        ids.append(item)
    return ids


def people(app: App) -> None:
    for actor in (RESPONDER, REVIEWER, COMPLIANCE, COMPLIANCE_2, AUDITOR):
        create_user(app.uow(), actor=SYSTEM, email=actor.id, role=actor.role)
    communications.ensure_demo_contacts(app.uow)


def incident_with_items(app: App, severity: str = "SEV1", **kwargs) -> tuple[int, list[int]]:
    people(app)
    item_ids = flagged_items(app)
    incident_id = incidents.declare_incident(app.uow(), actor=RESPONDER, title="Deepfake passports in KYC",
                                             severity=severity, item_ids=item_ids, **kwargs)
    return incident_id, item_ids
