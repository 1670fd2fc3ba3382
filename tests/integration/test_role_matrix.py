"""Who may call what: every public service function against every role, on SQLite and PostgreSQL.

The expected outcome comes from PERMISSIONS (plus the few extra rules written down in MATRIX), so
roles.py stays the one table. A refused call changes nothing; an allowed call really succeeds and
its audit events name the actor. A new service function fails the discovery test until it is added."""
from __future__ import annotations

import importlib
import inspect
import io
import itertools
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import SQLModel

import core.commands
import core.loops
from core.bootstrap import App
from core.clock import utcnow
from core.commands import (
    apikeys,
    audit,
    auth,
    communications,
    contacts,
    deliveries,
    evidence,
    hashbank,
    incidents,
    items,
    outbox,
    quarantine,
    sessions,
    settings_admin,
    users,
)
from core.domain.audit_actions import AuditAction
from core.domain.errors import FourEyesViolation, IllegalTransition, PermissionDenied
from core.domain.lifecycle import ItemState
from core.domain.outbox import OutboxStatus
from core.domain.roles import HUMAN_ROLES, PERMISSIONS, Action, Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord
from core.domain.sessions import SessionLimits
from core.domain.thresholds import Thresholds
from core.loops import uploads
from core.loops.scanning import SCANNER
from core.models import AuditEvent, Delivery, MediaItem, OutboxEntry, Quarantine, User
from tests.integration.test_incidents_helpers import LINKS

A = Action
SYSTEM = Actor.system()
# The people who set the stage; the actors under test are f"{role}@firm.test", never one of these.
SETUP = {role: Actor(f"setup.{role}@firm.test", role) for role in HUMAN_ROLES}
AUDIT_TABLES = frozenset({"audit_event", "audit_anchor"})
_ids = itertools.count(1)


def uid() -> int:
    return next(_ids)


def actor_for(role: Role) -> Actor:
    return Actor.system() if role is Role.SYSTEM else Actor(f"{role}@firm.test", role)


# -- fresh objects ------------------------------------------------------------------------------
def base(app: App) -> None:
    """The setup people and the people under test as accounts (services read each person's role
    from their account), and the demo contacts directory (message recipients)."""
    for actor in (*SETUP.values(), *(actor_for(role) for role in HUMAN_ROLES)):
        users.create_user(app.uow(), actor=SYSTEM, email=actor.id, role=actor.role)
    communications.ensure_demo_contacts(app.uow)


def item(app: App, state: str = "received", risk: str = "high", claimant: Actor | None = None) -> int:
    """A new item in `state` (received, scanning, clean, quarantined, in_review), with a unique SHA-256.
    In review, it is held by `claimant` (default: the setup reviewer): only the holder decides it."""
    n = uid()
    item_id = items.register_item(app.uow(), actor=SYSTEM, source="api", external_id=f"m-{n}",
                                  file_name=f"passport-{n}.jpg", linked_records=LINKS[n % len(LINKS)])
    if state == "received":
        return item_id
    items.begin_scan(app.uow(), actor=SYSTEM, item_id=item_id)
    if state == "scanning":
        return item_id
    items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item_id, outcome=ScanOutcome(
        risk="low" if state == "clean" else risk, reasons=("generator traces",), sha256=f"{n:064x}",
        signals=(SignalRecord("spectrum_mlp", "1.0", 0.97, "synthetic"),)))
    if state in ("clean", "quarantined"):
        return item_id
    items.start_review(app.uow(), actor=SETUP[Role.REVIEWER], item_id=item_id)
    if claimant is not None:  # as if handed over: the person under test holds the item
        with app.db.writer() as s:
            s.get(MediaItem, item_id).assignee = claimant.id
            s.commit()
    return item_id


def pending_release(app: App) -> int:
    """A high-risk release asked for by a setup reviewer: it waits for a second person."""
    decision_id, released = items.request_release(app.uow(), actor=SETUP[Role.REVIEWER],
                                                   item_id=item(app, "in_review"), reason_code="false_positive")
    assert not released
    return decision_id


def incident(app: App, with_item: bool = False) -> int:
    return incidents.declare_incident(app.uow(), actor=SETUP[Role.RESPONDER], title=f"Deepfake KYC {uid()}",
                                      severity="SEV2", item_ids=[item(app, "quarantined")] if with_item else [])


def draft(app: App, template: str = "compliance_alert", approved: bool = False) -> int:
    """A message drafted by a setup responder; `approved` by a setup compliance lead."""
    cid = communications.create_draft(app.uow(), actor=SETUP[Role.RESPONDER], incident_id=incident(app, True),
                                      template=template, idempotency_key=f"draft-{uid()}")
    if approved:
        communications.approve(app.uow(), actor=SETUP[Role.COMPLIANCE_LEAD], communication_id=cid)
    return cid


def contact(app: App) -> int:
    return contacts.add_contact(app.uow(), actor=SETUP[Role.COMPLIANCE_LEAD], name="Dana Protection",
                                email=f"dpo{uid()}@firm.test", role="dpo")


def person(app: App, locked: bool = False) -> str:
    email = f"person{uid()}@firm.test"
    users.create_user(app.uow(), actor=SYSTEM, email=email, role=Role.REVIEWER)
    if locked:
        with app.db.writer() as s:
            user = s.execute(select(User).where(User.email == email)).scalar_one()
            user.failed_logins, user.locked_until = 3, utcnow() + timedelta(minutes=15)
            s.add(user)
            s.commit()
    return email


def dead_letter(app: App) -> int:
    with app.db.writer() as s:
        entry = OutboxEntry(kind="email.smtp", payload={"communication_id": 0, "delivery_id": 0},
                            idempotency_key=f"dead-{uid()}", status="dead", attempts=8, last_error="550 no mailbox")
        s.add(entry)
        s.commit()
        return entry.id


def claimed_entry(app: App, kind: str = "sf.case", payload: dict | None = None, item_id: int | None = None):
    """An outbox entry a relay named "o" holds under its lease."""
    with app.db.writer() as s:
        entry = OutboxEntry(kind=kind, payload=payload or {}, idempotency_key=f"{kind}-{uid()}", item_id=item_id)
        s.add(entry)
        s.commit()
        entry_id = entry.id
    return next(e for e in outbox.claim(app.db, kinds=(kind,), owner="o", limit=1000) if e.id == entry_id)


def quarantine_of(app: App, status: str = "active") -> int:
    """The quarantine of a fresh held item, in `status`."""
    item_id = item(app, "quarantined")
    with app.db.writer() as s:
        q = s.execute(select(Quarantine).where(Quarantine.item_id == item_id)).scalar_one()
        q.status = status
        s.commit()
        return q.id


def delivery(app: App) -> dict:
    """A sent internal message's first delivery, with its outbox entry claimed by relay "o"."""
    cid = draft(app)
    communications.send(app.uow(), actor=SETUP[Role.RESPONDER], communication_id=cid)
    with app.db.reader() as s:
        d = s.execute(select(Delivery).where(Delivery.communication_id == cid).order_by(Delivery.id)).scalars().first()
    entry = next(e for e in outbox.claim(app.db, kinds=("email.smtp", "email.salesforce"), owner="o", limit=1000)
                 if e.payload["delivery_id"] == d.id)
    return {"entry": entry, "delivery": d.id}


def png(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (n % 256, n // 256 % 256, 99)).save(buffer, "PNG")
    return buffer.getvalue()


def in_open_uow(app: App, call: Callable[[Any], Any]) -> Any:
    """Run a hook that expects its caller's open unit of work, and commit it as the caller would."""
    uow = app.uow()
    with uow:
        result = call(uow)
        uow.commit()
    return result


def confirmed_in(uow, item_id: int) -> None:
    """The first half of confirm_synthetic, in the caller's unit of work: the item is now confirmed."""
    uow.session.get(MediaItem, item_id).state = ItemState.CONFIRMED_SYNTHETIC


# -- the tables ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One service function: the permission it checks, fresh inputs per call, and the call."""

    action: Action | None  # None: the function checks no permission (then `also` says who may call it)
    call: Callable[[App, Actor, dict], Any]
    setup: Callable[..., dict] = lambda app: {}  # (app) or (app, actor under test)
    changes: bool = True  # False: a read, an export or a sign-out, which may only add to the audit trail
    events: int = 1  # audit events an allowed call writes
    also: frozenset[Role] = frozenset()  # roles admitted beyond PERMISSIONS[action] (an extra rule)
    delegated: dict[str, str] = field(default_factory=dict)  # event action -> the system actor that writes it

    def allows(self, role: Role) -> bool:
        return (self.action is not None and role in PERMISSIONS[self.action]) or role in self.also


MATRIX: dict[str, Case] = {
    # A key "module.function[variant]" covers a second rule of the same function.
    "apikeys.create_api_key": Case(A.APIKEYS_MANAGE, lambda app, a, c: apikeys.create_api_key(
        app.uow(), actor=a, name="verification client")),
    "apikeys.revoke_api_key": Case(
        A.APIKEYS_MANAGE, lambda app, a, c: apikeys.revoke_api_key(app.uow(), actor=a, key_id=c["key"]),
        setup=lambda app: {"key": apikeys.create_api_key(app.uow(), actor=SYSTEM, name="old client")[0]}),
    "audit.export_jsonl": Case(A.AUDIT_EXPORT, lambda app, a, c: audit.export_jsonl(
        app.uow(), actor=a, out=io.StringIO()), changes=False),
    "audit.verify_chain": Case(A.AUDIT_VERIFY, lambda app, a, c: audit.verify_chain(
        app.db, actor=a, key=app.settings.audit_key), changes=False, events=0),
    # Everyone, the system included, may record the end of their own session: no permission to check.
    "auth.record_sign_out": Case(None, lambda app, a, c: auth.record_sign_out(
        app.uow(), actor=a, reason="signed out"), changes=False, also=frozenset(Role)),
    # A person who has just signed in gets a session (the sign-in wrote its event); our processes get none.
    "sessions.open_session": Case(None, lambda app, a, c: sessions.open_session(
        app.uow(), actor=a, method="password", limits=SessionLimits.of(idle_minutes=30, max_session_hours=12)),
        events=0, also=frozenset(HUMAN_ROLES)),
    "communications.create_draft": Case(
        A.MESSAGE_DRAFT, lambda app, a, c: communications.create_draft(
            app.uow(), actor=a, incident_id=c["incident"], template="compliance_alert", idempotency_key=c["key"]),
        setup=lambda app: {"incident": incident(app, with_item=True), "key": f"key-{uid()}"}),
    "communications.edit_draft": Case(A.MESSAGE_DRAFT, lambda app, a, c: communications.edit_draft(
        app.uow(), actor=a, communication_id=c["id"], subject="Revised: compliance alert"),
        setup=lambda app: {"id": draft(app)}),
    "communications.request_approval": Case(A.MESSAGE_DRAFT, lambda app, a, c: communications.request_approval(
        app.uow(), actor=a, communication_id=c["id"]), setup=lambda app: {"id": draft(app, "regulator_initial")}),
    # Four eyes as well: the approver neither drafted nor edited it (the setup responder did).
    "communications.approve": Case(A.MESSAGE_APPROVE_EXTERNAL, lambda app, a, c: communications.approve(
        app.uow(), actor=a, communication_id=c["id"]), setup=lambda app: {"id": draft(app, "regulator_initial")}),
    # send checks the permission for the message's audience: internal here, external below.
    "communications.send": Case(A.MESSAGE_SEND_INTERNAL, lambda app, a, c: communications.send(
        app.uow(), actor=a, communication_id=c["id"]), setup=lambda app: {"id": draft(app)}),
    "communications.send[external]": Case(A.MESSAGE_SEND_EXTERNAL, lambda app, a, c: communications.send(
        app.uow(), actor=a, communication_id=c["id"]),
        setup=lambda app: {"id": draft(app, "regulator_initial", approved=True)}),
    "contacts.add_contact": Case(A.CONTACTS_MANAGE, lambda app, a, c: contacts.add_contact(
        app.uow(), actor=a, name="Reggie Ulator", email=f"reg{uid()}@authority.test", role="regulator")),
    "contacts.update_contact": Case(A.CONTACTS_MANAGE, lambda app, a, c: contacts.update_contact(
        app.uow(), actor=a, contact_id=c["id"], name="Dana P. Officer", email="dana@firm.test", role="dpo"),
        setup=lambda app: {"id": contact(app)}),
    "contacts.deactivate_contact": Case(A.CONTACTS_MANAGE, lambda app, a, c: contacts.deactivate_contact(
        app.uow(), actor=a, contact_id=c["id"]), setup=lambda app: {"id": contact(app)}),
    "evidence.build_pack": Case(A.EVIDENCE_EXPORT, lambda app, a, c: evidence.build_pack(
        app.uow(), actor=a, incident_id=c["incident"]), setup=lambda app: {"incident": incident(app, True)},
        changes=False),
    "hashbank.add_entry": Case(A.HASHBANK_MANAGE, lambda app, a, c: hashbank.add_entry(
        app.uow(), actor=a, bank_name="known_synthetic", sha256=f"{uid():064x}", source="vendor feed")),
    "hashbank.import_csv": Case(A.HASHBANK_MANAGE, lambda app, a, c: hashbank.import_csv(
        app.uow(), actor=a, fh=io.StringIO(f"bank,sha256,phash,source,note\nknown_synthetic,{uid():064x},,feed,\n"))),
    "hashbank.export_csv": Case(A.HASHBANK_EXPORT, lambda app, a, c: hashbank.export_csv(
        app.uow(), actor=a, fh=io.StringIO()), changes=False),
    # A hook of confirm_synthetic: runs inside the caller's open unit of work and does not commit.
    # It checks the confirm permission, not HASHBANK_MANAGE: whoever may confirm an item banks its hashes.
    # Runs inside confirm_synthetic's unit of work, after the item has moved to confirmed synthetic.
    "hashbank.bank_confirmed_item": Case(A.ITEM_CONFIRM_SYNTHETIC, lambda app, a, c: in_open_uow(
        app, lambda uow: (confirmed_in(uow, c["id"]), hashbank.bank_confirmed_item(uow, actor=a, item_id=c["id"]))),
        setup=lambda app: {"id": item(app, "in_review")}),
    "incidents.declare_incident": Case(A.INCIDENT_DECLARE, lambda app, a, c: incidents.declare_incident(
        app.uow(), actor=a, title="Synthetic selfies in onboarding", severity="SEV2")),
    "incidents.link_items": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.link_items(
        app.uow(), actor=a, incident_id=c["incident"], item_ids=[c["item"]]),
        setup=lambda app: {"incident": incident(app), "item": item(app, "quarantined")}),
    "incidents.change_status": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.change_status(
        app.uow(), actor=a, incident_id=c["incident"], status="contained"),
        setup=lambda app: {"incident": incident(app)}),
    "incidents.change_severity": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.change_severity(
        app.uow(), actor=a, incident_id=c["incident"], severity="SEV1", reason="customers affected"),
        setup=lambda app: {"incident": incident(app)}),
    "incidents.assign_roles": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.assign_roles(
        app.uow(), actor=a, incident_id=c["incident"], communications_lead=SETUP[Role.COMPLIANCE_LEAD].id),
        setup=lambda app: {"incident": incident(app)}),
    "incidents.record_moments": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.record_moments(
        app.uow(), actor=a, incident_id=c["incident"], reason="classified as major under DORA",
        classified_at=utcnow() - timedelta(minutes=5)), setup=lambda app: {"incident": incident(app)}),
    # A recorded moment starts legal clocks: changing it is a correction, for compliance leads only.
    "incidents.record_moments[correction]": Case(A.INCIDENT_CORRECT_MOMENTS, lambda app, a, c: incidents.record_moments(
        app.uow(), actor=a, incident_id=c["incident"], reason="the call minutes show an earlier time",
        aware_at=utcnow() - timedelta(hours=2)), setup=lambda app: {"incident": incident(app)}),
    "incidents.record_submission": Case(A.CLOCK_RECORD_SUBMISSION, lambda app, a, c: incidents.record_submission(
        app.uow(), actor=a, incident_id=c["incident"], clock_rule="gdpr_art33", submitted_at=utcnow(),
        channel="the authority's breach portal", reference=f"CASE-{uid()}"),
        setup=lambda app: {"incident": incident(app)}),
    "incidents.add_note": Case(A.INCIDENT_UPDATE, lambda app, a, c: incidents.add_note(
        app.uow(), actor=a, incident_id=c["incident"], text="Customer called back."),
        setup=lambda app: {"incident": incident(app)}),
    "items.register_item": Case(A.ITEM_REGISTER, lambda app, a, c: items.register_item(
        app.uow(), actor=a, source="api", external_id=f"new-{uid()}", file_name="selfie.png")),
    "items.begin_scan": Case(A.ITEM_BEGIN_SCAN, lambda app, a, c: items.begin_scan(
        app.uow(), actor=a, item_id=c["id"]), setup=lambda app: {"id": item(app, "received")}),
    "items.record_scan_result": Case(A.ITEM_RECORD_SCAN, lambda app, a, c: items.record_scan_result(
        app.uow(), actor=a, item_id=c["id"], outcome=ScanOutcome(risk="low", sha256="ab" * 32)),
        setup=lambda app: {"id": item(app, "scanning")}),
    "items.hold_preemptively": Case(A.ITEM_QUARANTINE, lambda app, a, c: items.hold_preemptively(
        app.uow(), actor=a, item_id=c["id"], reason="backlog"), setup=lambda app: {"id": item(app, "received")}),
    "items.quarantine_item": Case(A.ITEM_QUARANTINE, lambda app, a, c: items.quarantine_item(
        app.uow(), actor=a, item_id=c["id"], reason="bank match"), setup=lambda app: {"id": item(app, "clean")}),
    "items.start_review": Case(A.ITEM_START_REVIEW, lambda app, a, c: items.start_review(
        app.uow(), actor=a, item_id=c["id"]), setup=lambda app: {"id": item(app, "quarantined")}),
    "items.assign_item": Case(A.ITEM_ASSIGN, lambda app, a, c: items.assign_item(
        app.uow(), actor=a, item_id=c["id"], assignee=SETUP[Role.REVIEWER].id),
        setup=lambda app: {"id": item(app, "quarantined")}),
    "items.return_to_queue": Case(A.ITEM_RETURN_TO_QUEUE, lambda app, a, c: items.return_to_queue(
        app.uow(), actor=a, item_id=c["id"]), setup=lambda app: {"id": item(app, "in_review")}),
    # Two events: the decision, and the item's hashes joining the known-synthetic bank.
    "items.confirm_synthetic": Case(A.ITEM_CONFIRM_SYNTHETIC, lambda app, a, c: items.confirm_synthetic(
        app.uow(), actor=a, item_id=c["id"], reason_code="generator_traces"),
        setup=lambda app, a: {"id": item(app, "in_review", claimant=a)}, events=2),
    "items.request_release": Case(A.ITEM_REQUEST_RELEASE, lambda app, a, c: items.request_release(
        app.uow(), actor=a, item_id=c["id"], reason_code="false_positive"),
        setup=lambda app, a: {"id": item(app, "in_review", risk="medium", claimant=a)}),
    # Four eyes as well: the release was asked for by the setup reviewer, not by the approver.
    "items.approve_release": Case(A.ITEM_APPROVE_RELEASE, lambda app, a, c: items.approve_release(
        app.uow(), actor=a, decision_id=c["decision"]), setup=lambda app: {"decision": pending_release(app)}),
    # What the relays record: only the system does, through these commands, each with its event.
    "outbox.record_effects": Case(A.EFFECT_RECORD, lambda app, a, c: outbox.record_effects(
        app.uow(), actor=a, entries=[c["entry"]], owner="o", action=AuditAction.SALESFORCE_CASE_UPSERTED,
        details=lambda e: {"status": "New"}), setup=lambda app: {"entry": claimed_entry(app)}),
    "outbox.record_failure": Case(A.EFFECT_RECORD, lambda app, a, c: outbox.record_failure(
        app.uow(), actor=a, entry=c["entry"], owner="o", error="INVALID_FIELD", transient=False),
        setup=lambda app: {"entry": claimed_entry(app)}),
    "quarantine.record_links_to_cut": Case(A.EFFECT_RECORD, lambda app, a, c: quarantine.record_links_to_cut(
        app.uow(), actor=a, cuts={c["q"]: quarantine.Cut([{"link_id": "06AX", "entity_id": f"001{uid():012d}",
                                                           "entity_type": "Account"}], "N")}),
        setup=lambda app: {"q": quarantine_of(app)}),
    "quarantine.confirm_restored": Case(A.EFFECT_RECORD, lambda app, a, c: quarantine.confirm_restored(
        app.uow(), actor=a, entry=c["entry"], owner="o", restored=[]),
        setup=lambda app: {"entry": claimed_entry(app, "sf.release", {"quarantine_id": quarantine_of(app, "releasing")})}),
    "quarantine.restore_failed": Case(A.EFFECT_RECORD, lambda app, a, c: quarantine.restore_failed(
        app.uow(), actor=a, quarantine_id=c["q"], problems=["INSUFFICIENT_ACCESS_OR_READONLY"]),
        setup=lambda app: {"q": quarantine_of(app, "releasing")}),
    # One message to one internal contact per delivery: delivered, then the message is sent (two events).
    "deliveries.record_delivered": Case(A.EFFECT_RECORD, lambda app, a, c: deliveries.record_delivered(
        app.uow(), actor=a, entry=c["entry"], owner="o", message_id="<m@x>"), setup=delivery),
    "deliveries.record_undelivered": Case(A.EFFECT_RECORD, lambda app, a, c: deliveries.record_undelivered(
        app.uow(), actor=a, delivery_id=c["delivery"], status=OutboxStatus.DEAD, error="550 no mailbox"),
        setup=delivery, events=2),
    "items.claim_for_scan": Case(A.ITEM_BEGIN_SCAN, lambda app, a, c: items.claim_for_scan(
        app.uow(), actor=a, owner="o", item_id=c["id"]), setup=lambda app: {"id": item(app, "received")}),
    "outbox.requeue_dead_letter": Case(A.SETTINGS_MANAGE, lambda app, a, c: outbox.requeue_dead_letter(
        app.uow(), actor=a, entry_id=c["id"]), setup=lambda app: {"id": dead_letter(app)}),
    "settings_admin.update_thresholds": Case(A.SETTINGS_MANAGE, lambda app, a, c: settings_admin.update_thresholds(
        app.uow(), actor=a, thresholds=Thresholds(review_sla_hours=float(1 + uid() % 300)), reason="staffing")),
    "settings_admin.update_detectors": Case(A.SETTINGS_MANAGE, lambda app, a, c: settings_admin.update_detectors(
        app.uow(), actor=a, overrides={"spectrum_mlp": {"threshold": 0.05 + uid() % 900 / 1000}}, reason="tuning")),
    "uploads.check_file": Case(A.ITEM_READ, lambda app, a, c: uploads.check_file(
        app, actor=a, data=png(uid()), file_name="selfie.png"), changes=False, events=0),
    # The upload is registered by the person; the scanner records its scan.
    "uploads.register_upload": Case(A.ITEM_REGISTER, lambda app, a, c: uploads.register_upload(
        app, actor=a, data=png(uid()), file_name="selfie.png"), events=3,
        delegated={"item.scan_started": SCANNER.id, "item.scanned": SCANNER.id}),
    # The system creates accounts without USERS_MANAGE: demo seeding and the operator's command line.
    "users.create_user": Case(A.USERS_MANAGE, lambda app, a, c: users.create_user(
        app.uow(), actor=a, email=f"new{uid()}@firm.test", role=Role.REVIEWER), also=frozenset({Role.SYSTEM})),
    "users.set_role": Case(A.USERS_MANAGE, lambda app, a, c: users.set_role(
        app.uow(), actor=a, email=c["email"], role=Role.RESPONDER, reason="moved team"),
        setup=lambda app: {"email": person(app)}),
    "users.set_active": Case(A.USERS_MANAGE, lambda app, a, c: users.set_active(
        app.uow(), actor=a, email=c["email"], active=False, reason="left the firm"),
        setup=lambda app: {"email": person(app)}),
    "users.unlock": Case(A.USERS_MANAGE, lambda app, a, c: users.unlock(
        app.uow(), actor=a, email=c["email"], reason="called back"), setup=lambda app: {"email": person(app, True)}),
}

NO_ACTOR: dict[str, str] = {
    "apikeys.authenticate": "the verification API's key check: the key is the credential",
    "apikeys.key_hash": "pure hashing",
    "audit.read_export": "parses an export file, no database",
    "audit.verify_export": "checks an export file offline, no database",
    "auth.clean_email": "pure validation of what a sign-in form carries",
    "auth.hash_password": "pure hashing",
    "auth.demo_sign_in": "makes the actor: nobody is signed in yet (demo accounts in demo mode only)",
    "auth.sign_in": "makes the actor: nobody is signed in yet",
    "auth.sso_sign_in": "makes the actor from the identity provider's verified claims",
    "communications.approval_needed": "read: why a message needs approval, shown beside it; send decides again",
    "communications.default_channel": "pure: reads settings",
    "message_content.incident_context": "template data; its callers (create_draft, build_pack) check permission",
    "outbox.complete": "inside the command that records an effect, which authorised its actor",
    "communications.ensure_demo_contacts": "demo seeding: acts as the system",
    "evidence.store_pack": "writes the bytes a permitted build_pack returned to an owner-only file, no database",
    "evidence.verify_pack": "checks a pack file offline, no database",
    "ingest.hold_under_pressure": "worker only: acts as the system",
    "ingest.poll": "worker only: acts as the system",
    "ingest.pressure": "worker only: reads queue health",
    "ingest.register_version": "worker and verification API: acts as the system",
    "ingest.register_versions": "worker (upload events) and verification API: acts as the system",
    "mail_relay.mail_relay_for": "builds the relay, which acts as the system",
    "outbox.claim": "relay bookkeeping: acts as the system",
    "salesforce_sync.case": "outbox rows inside the caller's unit of work; the caller checked permission",
    "salesforce_sync.is_salesforce": "pure predicate",
    "salesforce_sync.quarantine": "outbox rows inside the caller's unit of work; the caller checked permission",
    "salesforce_sync.release": "outbox rows inside the caller's unit of work; the caller checked permission",
    "salesforce_sync.writeback": "outbox rows inside the caller's unit of work; the caller checked permission",
    "sessions.claim_handoff": "the browser trades a one-time handoff for its cookie: the handoff is the credential",
    "sessions.close_session": "ends the session its id names (held only by that session's tabs), audited as its person",
    "sessions.touch_session": "the session's own idle clock, moved by its tabs' activity",
    "scanning.claim": "worker only: acts as the system (the scanner)",
    "scanning.outcome_for": "runs the engine on a file, no database write",
    "scanning.scan_claimed": "worker only: acts as the system (the scanner)",
    "scanning.scan_item": "worker and verification API: acts as the system (the scanner)",
    "users.active_role": "read: the current role of a signed-in person, for session checks",
    "users.demo_email": "pure",
    "users.ensure_demo_users": "demo seeding: acts as the system",
    "users.sync_demo_accounts": "start-up: acts as the system (demo accounts on in demo mode, off otherwise)",
    "users.list_users": "read: active accounts for pickers, no password hashes",
    "users.people": "read: every account for the people page, no password hashes",
}


# -- checks -------------------------------------------------------------------------------------
def public_functions() -> dict[str, inspect.Signature]:
    found = {}
    modules = [f"{package.__name__}.{info.name}" for package in (core.commands, core.loops)
               for info in pkgutil.iter_modules(package.__path__)]
    for module in map(importlib.import_module, modules):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{module.__name__.rsplit('.', 1)[1]}.{name}"] = inspect.signature(fn)
    return found


def snapshot(app: App) -> dict[str, list[tuple]]:
    """Every row of every table."""
    with app.db.read_engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in SQLModel.metadata.sorted_tables}


def changed_tables(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def last_seq(app: App) -> int:
    with app.db.reader() as s:
        return s.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one()


def events_since(app: App, seq: int) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)).scalars())


class Attempt(NamedTuple):
    error: Exception | None
    before: dict[str, list[tuple]]
    after: dict[str, list[tuple]]
    new: list[AuditEvent]  # the audit events the call wrote


def attempt(app: App, name: str, actor: Actor, watch: bool = True) -> Attempt:
    """Set up fresh objects and call as `actor`. Without `watch` the tables are not read
    (an allowed change is judged by its audit events)."""
    case = MATRIX[name]
    ctx = case.setup(app, actor) if len(inspect.signature(case.setup).parameters) == 2 else case.setup(app)
    before, seq = snapshot(app) if watch else {}, last_seq(app)
    try:
        case.call(app, actor, ctx)
        error = None
    except Exception as raised:
        error = raised
    return Attempt(error, before, snapshot(app) if watch else {}, events_since(app, seq))


def judge(name: str, role: Role, actor: Actor, result: Attempt) -> list[str]:
    """What is wrong with this outcome, judged against PERMISSIONS and the case's extra rules."""
    case, who = MATRIX[name], f"{name} as {role}"
    error, before, after, new = result
    if not case.allows(role):
        if error is None:
            return [f"{who}: allowed, but PERMISSIONS does not grant {case.action} to {role}"]
        if not isinstance(error, PermissionDenied):
            return [f"{who}: raised {type(error).__name__} ({error}), expected PermissionDenied"]
        if changed := changed_tables(before, after):
            return [f"{who}: refused but changed {sorted(changed)}"]
        return []
    if isinstance(error, PermissionDenied):
        return [f"{who}: refused ({error}) although {case.action} is granted to {role}"]
    if error is not None:
        return [f"{who}: allowed but failed: {type(error).__name__}: {error}"]
    problems = []
    if len(new) != case.events:
        problems.append(f"{who}: wrote {len(new)} audit events {[e.action for e in new]}, expected {case.events}")
    problems += [f"{who}: audit event {e.action} names {e.actor}, expected {case.delegated.get(e.action, actor.id)}"
                 for e in new if e.actor != case.delegated.get(e.action, actor.id)]
    if not case.changes and (changed := changed_tables(before, after) - AUDIT_TABLES):
        problems.append(f"{who}: a read changed {sorted(changed)}")
    return problems


# -- tests --------------------------------------------------------------------------------------
def test_every_public_service_function_is_in_a_table():
    found = public_functions()
    takes_actor = {name for name, sig in found.items() if "actor" in sig.parameters}
    in_matrix = {key.split("[")[0] for key in MATRIX}
    problems = [f"{n}: takes an actor but is not in MATRIX" for n in sorted(takes_actor - in_matrix)]
    problems += [f"{n}: takes no actor and is not in NO_ACTOR (say why it needs no permission check)"
                 for n in sorted(set(found) - takes_actor - set(NO_ACTOR))]
    problems += [f"{n}: in MATRIX but takes no actor" for n in sorted(in_matrix & set(found) - takes_actor)]
    problems += [f"{n}: in NO_ACTOR but takes an actor" for n in sorted(set(NO_ACTOR) & takes_actor)]
    problems += [f"{n}: named in a table but no longer exists in core.commands or core.loops"
                 for n in sorted((in_matrix | set(NO_ACTOR)) - set(found))]
    assert not problems, "\n".join(problems)


MODULES = sorted({key.split(".")[0] for key in MATRIX})


@pytest.mark.parametrize("module", MODULES)
def test_each_role_gets_exactly_what_permissions_grant(any_app, module):
    """Every role (the system included) against each function of one module: one database per module,
    fresh objects per call. Collects every mismatch, each naming the function and the role."""
    base(any_app)
    failures = []
    for name in sorted(key for key in MATRIX if key.split(".")[0] == module):
        case = MATRIX[name]
        for role in Role:
            actor = actor_for(role)
            watch = not case.allows(role) or not case.changes
            failures += judge(name, role, actor, attempt(any_app, name, actor, watch))
    assert not failures, "\n".join(failures)


AUDITOR_EXPORTS = {"audit.export_jsonl", "audit.verify_chain", "hashbank.export_csv", "evidence.build_pack"}
OWN_SESSION = {"sessions.open_session"}  # an auditor signs in too: their own session row is no change to the firm's data


def test_the_auditor_reads_everything_and_changes_nothing(any_app):
    """Independent of PERMISSIONS: every changing function refuses the auditor, every read admits them."""
    base(any_app)
    auditor = actor_for(Role.AUDITOR)
    reads = {name for name, case in MATRIX.items() if not case.changes}
    assert reads >= AUDITOR_EXPORTS
    failures = []
    for name in sorted(set(MATRIX) - OWN_SESSION):
        error, before, after, new = attempt(any_app, name, auditor)
        if name in reads:
            if error is not None:
                failures.append(f"{name}: the auditor may not read: {type(error).__name__}: {error}")
            elif changed := changed_tables(before, after) - AUDIT_TABLES:
                failures.append(f"{name}: the auditor's read changed {sorted(changed)}")
            failures += [f"{name}: event {e.action} names {e.actor}" for e in new if e.actor != auditor.id]
        elif not isinstance(error, PermissionDenied):
            failures.append(f"{name}: the auditor was not refused ({type(error).__name__ if error else 'it ran'})")
        elif changed := changed_tables(before, after):
            failures.append(f"{name}: refusing the auditor changed {sorted(changed)}")
    assert not failures, "\n".join(failures)


def test_nobody_approves_their_own_release(any_app):
    base(any_app)
    for role in (Role.REVIEWER, Role.COMPLIANCE_LEAD):
        requester, other = actor_for(role), SETUP[role]
        item_id = item(any_app, "in_review", claimant=requester)
        decision_id, released = items.request_release(any_app.uow(), actor=requester, item_id=item_id,
                                                       reason_code="false_positive")
        assert not released
        before, seq = snapshot(any_app), last_seq(any_app)
        with pytest.raises(FourEyesViolation):
            items.approve_release(any_app.uow(), actor=requester, decision_id=decision_id)
        assert snapshot(any_app) == before, f"refusing {requester.id} changed something"
        items.approve_release(any_app.uow(), actor=other, decision_id=decision_id)
        assert [(e.action, e.actor) for e in events_since(any_app, seq)] == [("item.released", other.id)]


def test_nobody_approves_an_external_message_they_wrote_or_edited(any_app):
    """communications.approve refuses the author and anyone the trail shows editing the draft."""
    base(any_app)
    author, editor = actor_for(Role.COMPLIANCE_LEAD), SETUP[Role.COMPLIANCE_LEAD]
    cid = communications.create_draft(any_app.uow(), actor=author, incident_id=incident(any_app, True),
                                      template="regulator_initial", idempotency_key="own-1")
    communications.edit_draft(any_app.uow(), actor=editor, communication_id=cid, subject="GDPR Art. 33 notice")
    for writer in (author, editor):
        before = snapshot(any_app)
        with pytest.raises(FourEyesViolation):
            communications.approve(any_app.uow(), actor=writer, communication_id=cid)
        assert snapshot(any_app) == before, f"refusing {writer.id} changed something"
    third, seq = Actor("third.lead@firm.test", Role.COMPLIANCE_LEAD), last_seq(any_app)
    users.create_user(any_app.uow(), actor=SYSTEM, email=third.id, role=third.role)
    seq = last_seq(any_app)
    communications.approve(any_app.uow(), actor=third, communication_id=cid)
    assert [(e.action, e.actor) for e in events_since(any_app, seq)] == [("communication.approved", third.id)]


def test_admins_cannot_change_their_own_role_or_deactivate_themselves(any_app):
    """Whatever the spelling of their own address."""
    admin = actor_for(Role.ADMIN)
    users.create_user(any_app.uow(), actor=SYSTEM, email=admin.id, role=Role.ADMIN)
    before = snapshot(any_app)
    with pytest.raises(FourEyesViolation):
        users.set_role(any_app.uow(), actor=admin, email=admin.id, role=Role.AUDITOR, reason="rotation")
    with pytest.raises(FourEyesViolation):
        users.set_active(any_app.uow(), actor=admin, email=admin.id.upper(), active=False, reason="leaving")
    assert snapshot(any_app) == before
    assert users.active_role(any_app.db, admin.id) is Role.ADMIN


def test_only_a_confirmed_item_joins_the_known_synthetic_bank(any_app):
    """Called directly on an item nobody confirmed, the bank refuses: a decision comes first."""
    base(any_app)
    target = item(any_app, "in_review")
    with pytest.raises(IllegalTransition, match="not confirmed synthetic"):
        in_open_uow(any_app, lambda uow: hashbank.bank_confirmed_item(uow, actor=SETUP[Role.REVIEWER], item_id=target))
