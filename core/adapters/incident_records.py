"""Reads about incidents that both commands (message content, evidence packs, recipients) and the
dashboard's queries need: an incident with its files, customers affected, timeline, clocks, messages,
the contacts directory. Kept here, below both, so neither imports the other."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, or_, select

from core.adapters.clock_rules import load_rules
from core.adapters.db import Database
from core.clock import utcnow
from core.domain import clocks as clock_rules
from core.domain.errors import NotFound
from core.domain.incidents import (
    AUDIENCE_CONTACT_ROLES,
    SEVERITY_DEFINITIONS,
    Audience,
    Reference,
    Severity,
    affected_customers,
)
from core.domain.records import is_customer_record
from core.models import (
    AuditEvent,
    ClockSubmission,
    Communication,
    Contact,
    Decision,
    Delivery,
    Incident,
    IncidentItem,
    IncidentNote,
    MediaItem,
    Signal,
    Verdict,
)


def incident(db: Database, incident_id: int) -> dict:
    with db.reader() as s:
        row = s.get(Incident, incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        data = row.model_dump()
    data["reference"] = str(Reference(incident_id))
    data["severity_definition"] = SEVERITY_DEFINITIONS[Severity(data["severity"])]
    return data


def _item_ids(s, incident_id: int) -> list[int]:
    return list(s.execute(select(IncidentItem.item_id).where(IncidentItem.incident_id == incident_id)
                          .order_by(IncidentItem.item_id)).scalars())


def incident_items(db: Database, incident_id: int) -> list[dict]:
    """Linked items with their latest verdict, signals and decisions."""
    with db.reader() as s:
        ids = _item_ids(s, incident_id)
        items = {i.id: i.model_dump() for i in s.execute(select(MediaItem).where(MediaItem.id.in_(ids))).scalars()}
        verdicts = s.execute(select(Verdict).where(Verdict.item_id.in_(ids)).order_by(Verdict.id)).scalars().all()
        signals = s.execute(select(Signal).where(Signal.item_id.in_(ids)).order_by(Signal.id)).scalars().all()
        decisions = s.execute(select(Decision).where(Decision.item_id.in_(ids)).order_by(Decision.id)).scalars().all()
        for item in items.values():
            item.update(verdicts=[], signals=[], decisions=[])
        for v in verdicts:
            items[v.item_id]["verdicts"].append(v.model_dump())
        for g in signals:
            items[g.item_id]["signals"].append(g.model_dump())
        for d in decisions:
            items[d.item_id]["decisions"].append(d.model_dump())
    return [items[i] for i in ids if i in items]


def customers_affected(items: list[dict]) -> dict:
    return affected_customers({i["id"]: [r for r in i["linked_records"] if is_customer_record(r)] for i in items})


def notes(db: Database, incident_id: int) -> list[dict]:
    with db.reader() as s:
        return [n.model_dump() for n in s.execute(select(IncidentNote).where(
            IncidentNote.incident_id == incident_id).order_by(IncidentNote.created_at, IncidentNote.id)).scalars()]


def timeline(db: Database, incident_id: int) -> pd.DataFrame:
    """Audit events of the incident, its items and its messages, merged with manual notes, oldest first."""
    with db.reader() as s:
        item_ids = [str(i) for i in _item_ids(s, incident_id)]
        comm_ids = [str(c) for c in s.execute(select(Communication.id).where(
            Communication.incident_id == incident_id)).scalars()]
        events = s.execute(select(AuditEvent).where(or_(
            and_(AuditEvent.object_type == "incident", AuditEvent.object_id == str(incident_id)),
            and_(AuditEvent.object_type == "media_item", AuditEvent.object_id.in_(item_ids)),
            and_(AuditEvent.object_type == "communication", AuditEvent.object_id.in_(comm_ids)),
        )).order_by(AuditEvent.seq)).scalars().all()
        rows = [{"at": e.occurred_at, "kind": "event", "who": e.actor, "what": e.action,
                 "object": f"{e.object_type} {e.object_id}", "detail": e.reason or e.after or "", "seq": e.seq}
                for e in events if e.action != "incident.note_added"]
    rows += [{"at": n["created_at"], "kind": "note", "who": n["author"], "what": "note",
              "object": f"incident {incident_id}", "detail": n["text"], "seq": None} for n in notes(db, incident_id)]
    frame = pd.DataFrame(rows, columns=["at", "kind", "who", "what", "object", "detail", "seq"])
    return frame.sort_values(["at"], kind="stable").reset_index(drop=True)


def communications(db: Database, incident_id: int) -> list[dict]:
    with db.reader() as s:
        return [c.model_dump() for c in s.execute(select(Communication).where(
            Communication.incident_id == incident_id).order_by(Communication.id)).scalars()]


def communication(db: Database, communication_id: int) -> dict:
    with db.reader() as s:
        row = s.get(Communication, communication_id)
        if row is None:
            raise NotFound(f"message {communication_id} does not exist")
        return row.model_dump()


def delivery_log(db: Database, communication_id: int) -> list[dict]:
    with db.reader() as s:
        return [d.model_dump() for d in s.execute(select(Delivery).where(
            Delivery.communication_id == communication_id).order_by(Delivery.id)).scalars()]


def contacts(db: Database, roles: tuple[str, ...] | None = None) -> list[dict]:
    query = select(Contact).where(Contact.active)
    if roles is not None:
        query = query.where(Contact.role.in_(roles))
    with db.reader() as s:
        return [c.model_dump() for c in s.execute(query.order_by(Contact.role, Contact.name)).scalars()]


def contacts_for_audience(db: Database, audience: str) -> list[dict]:
    return contacts(db, AUDIENCE_CONTACT_ROLES[Audience(audience)])


def _sent_by_rule(s, incident_ids: list[int], rules) -> dict[int, dict[str, list[datetime]]]:
    """When each clock rule was satisfied: by a sent message that a compliance lead approved and that
    went to the rule's audience, or by a submission made outside Response Desk and recorded here."""
    audience = {r.id: r.audience for r in rules}
    sent: dict[int, dict[str, list[datetime]]] = {i: {} for i in incident_ids}
    for incident_id, rule, to, at in s.execute(select(
            Communication.incident_id, Communication.clock_rule, Communication.audience, Communication.sent_at).where(
            Communication.incident_id.in_(incident_ids), Communication.clock_rule.is_not(None),
            Communication.status == "sent", Communication.sent_at.is_not(None),
            Communication.approved_by.is_not(None))).all():
        if audience.get(rule) == to:
            sent[incident_id].setdefault(rule, []).append(at)
    for incident_id, rule, at in s.execute(select(
            ClockSubmission.incident_id, ClockSubmission.clock_rule, ClockSubmission.submitted_at).where(
            ClockSubmission.incident_id.in_(incident_ids))).all():
        sent[incident_id].setdefault(rule, []).append(at)
    return sent


def _clock_records(incident_row, sent: dict, rules, now: datetime) -> list[dict]:
    facts = clock_rules.ClockFacts(severity=incident_row.severity, aware_at=incident_row.aware_at,
                                   classified_at=incident_row.classified_at,
                                   determined_at=incident_row.determined_at, sent=sent)
    return [status.__dict__.copy() for status in clock_rules.evaluate_all(rules, facts, now)]


def incident_clocks(db: Database, incident_id: int, now: datetime | None = None,
                    rules: list[clock_rules.ClockRule] | None = None) -> list[dict]:
    rules = load_rules() if rules is None else rules
    with db.reader() as s:
        row = s.get(Incident, incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return _clock_records(row, _sent_by_rule(s, [incident_id], rules)[incident_id], rules, now or utcnow())
