"""Incidents: declaration, status rules, roles, moments, customers affected, timeline, Live clocks."""
from datetime import timedelta

import pytest

from core.clock import utcnow
from core.commands import incidents
from core.domain.errors import IllegalTransition, NotFound, PermissionDenied
from core.queries import incidents as q
from tests.integration.test_incidents_helpers import AUDITOR, COMPLIANCE, RESPONDER, incident_with_items, people


def test_declare_links_items_and_derives_the_customers_affected(any_app):
    incident_id, item_ids = incident_with_items(any_app)
    detail = q.incident(any_app.db, incident_id)
    assert detail["status"] == "investigating" and detail["commander"] == RESPONDER.id
    assert detail["reference"] == f"INC-{incident_id:04d}" and detail["aware_at"] is not None
    affected = q.customers_affected(q.incident_items(any_app.db, incident_id))
    # Account 001A (direct and through KYC-0001), account 001B through KYC-0002, a Contact without account.
    assert sorted(c["id"] for c in affected["customers"]) == ["001A", "001B", "003C"]
    assert affected["customer_count"] == 3
    assert affected["record_count"] == 4  # the uploader's User link is not a customer record
    assert {r["type"] for r in affected["records"]} == {"Account", "KYC_Check__c", "Contact"}


def test_declare_from_scratch_needs_permission_and_a_title(sqlite_app):
    people(sqlite_app)
    with pytest.raises(PermissionDenied):
        incidents.declare_incident(sqlite_app.uow(), actor=AUDITOR, title="x", severity="SEV3")
    with pytest.raises(ValueError):
        incidents.declare_incident(sqlite_app.uow(), actor=RESPONDER, title=" ", severity="SEV3")
    incident_id = incidents.declare_incident(sqlite_app.uow(), actor=RESPONDER, title="Reported voice clone",
                                             severity="SEV3")
    assert q.incident_items(sqlite_app.db, incident_id) == []


def test_status_moves_forward_and_reopening_needs_a_reason(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    with pytest.raises(IllegalTransition):
        incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status="closed")
    incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status="contained")
    incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status="resolved")
    with pytest.raises(IllegalTransition):
        incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status="investigating")
    incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status="investigating",
                            reason="a third file surfaced")
    assert q.incident(sqlite_app.db, incident_id)["resolved_at"] is None
    for status in ("contained", "resolved", "closed"):
        incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, status=status)
    with pytest.raises(IllegalTransition):
        incidents.change_status(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                                status="investigating", reason="again")
    assert all(i["id"] != incident_id for i in q.active_incidents_with_clocks(sqlite_app.db))


def test_roles_must_be_known_users_and_moments_are_recorded_once(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    incidents.assign_roles(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                           compliance_lead=COMPLIANCE.id, communications_lead=RESPONDER.id)
    with pytest.raises(NotFound):
        incidents.assign_roles(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, commander="who@x.example")
    assert q.incident(sqlite_app.db, incident_id)["compliance_lead"] == COMPLIANCE.id
    with pytest.raises(ValueError, match="future"):
        incidents.record_moments(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, reason="typo",
                                 classified_at=utcnow() + timedelta(hours=1))
    first = utcnow()
    incidents.record_moments(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, classified_at=first)
    with pytest.raises(PermissionDenied):  # recorded once: a change is a correction, for compliance
        incidents.record_moments(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id, reason="typo",
                                 classified_at=utcnow())
    with pytest.raises(ValueError, match="needs a reason"):
        incidents.record_moments(sqlite_app.uow(), actor=COMPLIANCE, incident_id=incident_id,
                                 classified_at=utcnow())
    incidents.record_moments(sqlite_app.uow(), actor=COMPLIANCE, incident_id=incident_id,
                             reason="classified major by the ICT incident committee", classified_at=utcnow())
    assert q.incident(sqlite_app.db, incident_id)["classified_at"] > first


def test_timeline_merges_audit_events_of_incident_and_items_with_notes(any_app):
    incident_id, item_ids = incident_with_items(any_app)
    incidents.add_note(any_app.uow(), actor=RESPONDER, incident_id=incident_id, text="Called the KYC team lead.")
    incidents.change_status(any_app.uow(), actor=RESPONDER, incident_id=incident_id, status="contained")
    timeline = q.timeline(any_app.db, incident_id)
    assert list(timeline["at"]) == sorted(timeline["at"])
    whats = list(timeline["what"])
    assert "item.scanned" in whats and "incident.declared" in whats and "incident.status_changed" in whats
    notes = timeline[timeline["kind"] == "note"]
    assert list(notes["detail"]) == ["Called the KYC team lead."]
    assert whats.index("item.registered") < whats.index("incident.declared") < whats.index("note")


def test_active_incidents_with_clocks_for_the_live_page(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app, aware_at=utcnow() - timedelta(hours=60))
    [entry] = q.active_incidents_with_clocks(sqlite_app.db)
    assert entry["id"] == incident_id and entry["severity"] == "SEV1"
    clocks = {c["rule_id"]: c for c in entry["clocks"]}
    assert clocks["gdpr_art33"]["state"] == "warning"  # 12 hours left of 72
    assert 11 * 3600 < clocks["gdpr_art33"]["remaining_s"] < 12 * 3600 + 5
    assert clocks["gdpr_art33"]["source"].startswith("Regulation (EU) 2016/679")
    assert clocks["dora_initial"]["state"] == "not_started"  # not classified as major yet
    assert clocks["nydfs_500_17"]["started_by"] == "aware_at"
