"""Commands on messages: prefilled draft -> edit -> approval (external audiences) -> send.

Sending writes one Delivery per recipient and one outbox row each, in the same transaction;
the mail relay delivers them. A message is sent once: a second send finds it already sent and
says so, and the outbox rows' idempotency keys refuse a duplicate even from a racing request."""
from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.adapters import incident_records as q
from core.adapters import people as people_check
from core.adapters import templates
from core.adapters.clock_rules import load_rules
from core.adapters.db import Database
from core.adapters.smtp import check_address, check_subject
from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.commands import message_content
from core.domain.audit_actions import AuditAction
from core.domain.clocks import ClockRule
from core.domain.errors import FourEyesViolation, IllegalTransition, NotFound
from core.domain.incidents import (
    AUDIENCE_CONTACT_ROLES,
    INTERNAL_CONTACT_ROLES,
    Audience,
    approval_reasons,
    clock_rule_problem,
)
from core.domain.messages import ALREADY_SENT, EDITABLE, check_transition
from core.domain.messages import MessageStatus as M
from core.domain.roles import Action, Actor
from core.models import AuditEvent, Communication, Contact, Delivery
from core.settings import PROJECT_ROOT, Settings

CHANNEL_KINDS = {"email": "email.smtp", "salesforce": "email.salesforce"}
DEMO_CONTACTS_FILE = PROJECT_ROOT / "data" / "demo_contacts.toml"


@dataclass(frozen=True)
class SendResult:
    sent_now: bool
    message: str


def _recipients(raw: Iterable[dict[str, Any] | str]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for r in raw:
        entry = {"email": r, "name": "", "role": ""} if isinstance(r, str) else \
            {"email": r["email"], "name": r.get("name", ""), "role": r.get("role", "")}
        entry["email"] = check_address(entry["email"].strip())
        if entry["email"].lower() not in seen:
            seen.add(entry["email"].lower())
            out.append(entry)
    return out


def _load(uow: UnitOfWork, communication_id: int, lock: bool = False) -> Communication:
    query = select(Communication).where(Communication.id == communication_id)
    found: Communication | None = uow.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"message {communication_id} does not exist")
    return found


def _directory(session: Session, roles: Iterable[str]) -> frozenset[str]:
    return frozenset(e.lower() for e in session.execute(select(Contact.email).where(
        Contact.active, Contact.role.in_(tuple(roles)))).scalars())


def _approval_reasons(session: Session, c: Communication, internal_domains: Iterable[str]) -> list[str]:
    return approval_reasons(c.audience, [r["email"] for r in c.recipients], c.clock_rule,
                            _directory(session, INTERNAL_CONTACT_ROLES), internal_domains)


def _clock_problem(session: Session, c: Communication, rules: list[ClockRule]) -> str | None:
    if c.clock_rule is None:
        return None
    rule = next((r for r in rules if r.id == c.clock_rule), None)
    if rule is None:
        return f"no regulatory clock rule {c.clock_rule!r}"
    return clock_rule_problem(rule.id, rule.audience, c.audience, [r["email"] for r in c.recipients],
                              _directory(session, AUDIENCE_CONTACT_ROLES[Audience(c.audience)]))


def approval_needed(db: Database, communication_id: int, internal_domains: Iterable[str] = ()) -> list[str]:
    """Why this message needs a compliance lead's approval before it is sent ([] when it does not)."""
    with db.reader() as s:
        return _approval_reasons(s, _get(s, communication_id), internal_domains)


def _get(session: Session, communication_id: int) -> Communication:
    found: Communication | None = session.get(Communication, communication_id)
    if found is None:
        raise NotFound(f"message {communication_id} does not exist")
    return found


def create_draft(uow: UnitOfWork, *, actor: Actor, incident_id: int, template: str, idempotency_key: str,
                 audience: str | None = None, recipients: Iterable[dict[str, Any] | str] | None = None,
                 channel: str = "email", clock_rule: str | None = "", dashboard_url: str = "http://localhost:8501",
                 rules: list[ClockRule] | None = None) -> int:
    """Render the template from the incident's evidence into a draft. The same idempotency key
    returns the draft made the first time. Recipients default to the audience's contacts;
    clock_rule defaults to the template's ("" = default, None = none)."""
    people_check.authorize_read(uow.db, actor, Action.MESSAGE_DRAFT)
    info = templates.template_info(template)
    audience = Audience(audience or info["audience"]).value
    if channel not in CHANNEL_KINDS:
        raise ValueError(f"channel must be one of {sorted(CHANNEL_KINDS)}")
    clock_rule = info.get("clock_rule") if clock_rule == "" else clock_rule
    rules = load_rules() if rules is None else rules
    with uow.db.reader() as s:
        existing = s.execute(select(Communication.id).where(
            Communication.idempotency_key == idempotency_key)).scalar_one_or_none()
    if existing is not None:
        return int(existing)
    rendered = templates.render(template, message_content.incident_context(uow.db, incident_id, author=actor.id,
                                                                   dashboard_url=dashboard_url))
    people = _recipients(recipients if recipients is not None else q.contacts_for_audience(uow.db, audience))
    with uow:
        actor = uow.authorize(actor, Action.MESSAGE_DRAFT)
        draft = Communication(incident_id=incident_id, template=template, audience=audience,
                              subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                              prefilled_text=rendered.text, recipients=people, author=actor.id,
                              idempotency_key=idempotency_key, channel=channel, clock_rule=clock_rule)
        if problem := _clock_problem(uow.session, draft, rules):
            raise ValueError(problem)
        uow.session.add(draft)
        uow.session.flush()
        uow.record(actor, AuditAction.COMMUNICATION_DRAFTED, "communication", draft.id, after={
            "incident_id": incident_id, "template": template, "audience": audience, "channel": channel,
            "recipients": [p["email"] for p in people], "clock_rule": draft.clock_rule,
            "prefilled_sha256": hashlib.sha256(rendered.text.encode()).hexdigest()})
        uow.commit()
        return uow.new_id(draft)


def edit_draft(uow: UnitOfWork, *, actor: Actor, communication_id: int, subject: str | None = None,
               body_text: str | None = None, recipients: Iterable[dict[str, Any] | str] | None = None,
               rules: list[ClockRule] | None = None) -> None:
    """Change a draft. An approved message that is edited needs approving again."""
    rules = load_rules() if rules is None else rules
    with uow:
        actor = uow.authorize(actor, Action.MESSAGE_DRAFT)
        c = _load(uow, communication_id, lock=True)
        if c.status not in EDITABLE:
            raise IllegalTransition(f"message {c.id} is {M(c.status).label.lower()}: it can no longer be edited")
        before = {"subject": c.subject, "status": c.status, "recipients": [r["email"] for r in c.recipients],
                  "text_sha256": hashlib.sha256(c.body_text.encode()).hexdigest()}
        if subject is not None:
            c.subject = check_subject(subject.strip())
        if body_text is not None and body_text != c.body_text:
            # The HTML part follows the words that will be approved and sent, never the stale prefill.
            c.body_text, c.body_html = body_text, templates.edited_html(body_text)
        if recipients is not None:
            c.recipients = _recipients(recipients)
            if problem := _clock_problem(uow.session, c, rules):
                raise ValueError(problem)
        if c.status in (M.PENDING_APPROVAL, M.APPROVED):
            check_transition(c.status, M.DRAFT)
            c.status, c.approved_by, c.approved_at = M.DRAFT, None, None
        uow.session.add(c)
        uow.record(actor, AuditAction.COMMUNICATION_EDITED, "communication", c.id, before=before, after={
            "subject": c.subject, "status": c.status, "recipients": [r["email"] for r in c.recipients],
            "text_sha256": hashlib.sha256(c.body_text.encode()).hexdigest(),
            "diff": templates.changes(c.prefilled_text, c.body_text)[:4000]})
        uow.commit()


def request_approval(uow: UnitOfWork, *, actor: Actor, communication_id: int) -> None:
    """Ask a compliance lead to approve. Any draft may ask: one whose recipients are all inside the
    firm needs no approval to be sent, but its author may want a second pair of eyes anyway."""
    with uow:
        actor = uow.authorize(actor, Action.MESSAGE_DRAFT)
        c = _load(uow, communication_id, lock=True)
        if c.status != M.DRAFT:
            raise IllegalTransition(f"message {c.id} is {M(c.status).label.lower()}, not a draft")
        check_transition(c.status, M.PENDING_APPROVAL)
        c.status = M.PENDING_APPROVAL
        uow.session.add(c)
        uow.record(actor, AuditAction.COMMUNICATION_APPROVAL_REQUESTED, "communication", c.id,
                   before={"status": M.DRAFT}, after={"status": c.status})
        uow.commit()


def _writers(uow: UnitOfWork, c: Communication) -> set[str]:
    edited = uow.session.execute(select(AuditEvent.actor).where(
        AuditEvent.object_type == "communication", AuditEvent.object_id == str(c.id),
        AuditEvent.action == AuditAction.COMMUNICATION_EDITED)).scalars()
    return {c.author, *edited}


def approve(uow: UnitOfWork, *, actor: Actor, communication_id: int) -> None:
    """A compliance lead approves an external message that they neither drafted nor edited."""
    with uow:
        actor = uow.authorize(actor, Action.MESSAGE_APPROVE_EXTERNAL)
        c = _load(uow, communication_id, lock=True)
        if c.status not in (M.DRAFT, M.PENDING_APPROVAL):
            raise IllegalTransition(f"message {c.id} is {M(c.status).label.lower()}: nothing to approve")
        if actor.id in _writers(uow, c):
            raise FourEyesViolation("nobody approves a message they wrote or edited")
        before = c.status
        check_transition(c.status, M.APPROVED)
        c.status, c.approved_by, c.approved_at = M.APPROVED, actor.id, utcnow()
        uow.session.add(c)
        uow.record(actor, AuditAction.COMMUNICATION_APPROVED, "communication", c.id, before={"status": before},
                   after={"status": c.status, "text_sha256": hashlib.sha256(c.body_text.encode()).hexdigest()})
        uow.commit()


def _outbox_key(kind: str, c: Communication, email: str) -> str:
    return f"{kind}:{c.idempotency_key[:40]}:{hashlib.sha256(email.lower().encode()).hexdigest()[:24]}"


def send(uow: UnitOfWork, *, actor: Actor, communication_id: int, internal_domains: Iterable[str] = (),
         rules: list[ClockRule] | None = None) -> SendResult:
    """Queue the message for every recipient. Sending again is a no-op that says so.

    Whether the message leaves the firm is decided here from its recipients (directory contacts with
    an internal role and `internal_domains` are inside; everyone else is outside), not from its
    audience label: a message going outside, to an external audience, or stopping a regulatory clock
    needs a compliance lead's approval of exactly these words and recipients, and a sender whose role
    may send outside the firm."""
    rules = load_rules() if rules is None else rules
    try:
        with uow:
            c = _load(uow, communication_id, lock=True)
            reasons = _approval_reasons(uow.session, c, internal_domains)
            actor = uow.authorize(actor, Action.MESSAGE_SEND_EXTERNAL if reasons else Action.MESSAGE_SEND_INTERNAL)
            if c.status in ALREADY_SENT:
                return SendResult(False, f"Already sent by {c.sent_by}: message {c.id} is {M(c.status).label.lower()}; "
                                         "nothing was sent again.")
            if reasons and c.status != M.APPROVED:
                raise IllegalTransition(f"message {c.id} needs a compliance lead's approval first: "
                                        + "; ".join(reasons))
            if problem := _clock_problem(uow.session, c, rules):
                raise IllegalTransition(problem)
            if not c.recipients:
                raise ValueError(f"message {c.id} has no recipients")
            kind, before = CHANNEL_KINDS[c.channel], c.status
            for r in c.recipients:
                delivery = Delivery(communication_id=c.id, recipient=r["email"], channel=c.channel)
                uow.session.add(delivery)
                uow.session.flush()
                uow.enqueue(kind, {"communication_id": c.id, "delivery_id": delivery.id},
                            idempotency_key=_outbox_key(kind, c, r["email"]))
            check_transition(c.status, M.SENDING)
            c.status, c.sent_by = M.SENDING, actor.id
            uow.session.add(c)
            uow.record(actor, AuditAction.COMMUNICATION_SEND_REQUESTED, "communication", c.id, before={"status": before},
                       after={"status": c.status, "channel": c.channel, "clock_rule": c.clock_rule,
                              "recipients": [r["email"] for r in c.recipients], "approval": reasons,
                              "approved_by": c.approved_by,
                              "text_sha256": hashlib.sha256(c.body_text.encode()).hexdigest()})
            uow.commit()
            return SendResult(True, f"Message {c.id} queued for {len(c.recipients)} recipient(s).")
    except IntegrityError:  # a concurrent send of the same message won the race
        return SendResult(False, f"Already sent: message {communication_id} was sent by a concurrent request; "
                                 "nothing was sent again.")


def default_channel(settings: Settings) -> str:
    """SMTP when configured, else the org's emailSimple action (the demo org included)."""
    return "email" if settings.smtp is not None or settings.salesforce is None else "salesforce"


def ensure_demo_contacts(uow_factory: Callable[[], UnitOfWork], path: Path = DEMO_CONTACTS_FILE) -> int:
    """Seed the contacts directory from a TOML file when it is empty (demo mode). Returns how many."""
    uow = uow_factory()
    with uow.db.reader() as s:
        if s.execute(select(Contact.id).limit(1)).first():
            return 0
    with path.open("rb") as fh:
        rows = tomllib.load(fh)["contact"]
    system = Actor.system("demo")
    with uow:
        for row in rows:
            contact = Contact(name=row["name"], email=check_address(row["email"]), role=row["role"],
                              organisation=row.get("organisation", ""))
            uow.session.add(contact)
            uow.session.flush()
            uow.record(system, AuditAction.CONTACT_ADDED, "contact", contact.id,
                       after={"name": contact.name, "email": contact.email, "role": contact.role})
        uow.commit()
    return len(rows)

