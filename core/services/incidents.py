"""Commands on incidents: declare, link items, move status, name roles, record the moments
that start regulatory clocks, add notes. Each checks permission, audits, commits once."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select

from core.clock import utcnow
from core.domain.errors import NotFound
from core.domain.incidents import IncidentStatus, Severity, check_status_change
from core.domain.roles import Action, Actor, require
from core.models import Incident, IncidentItem, IncidentNote, MediaItem, User
from core.services.uow import UnitOfWork

ROLE_FIELDS = ("commander", "communications_lead", "compliance_lead")


def _load(uow: UnitOfWork, incident_id: int) -> Incident:
    incident = uow.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def _link(uow: UnitOfWork, incident: Incident, item_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(int(i) for i in item_ids))
    found = set(uow.session.execute(select(MediaItem.id).where(MediaItem.id.in_(wanted))).scalars())
    if missing := [i for i in wanted if i not in found]:
        raise NotFound(f"media items do not exist: {missing}")
    linked = set(uow.session.execute(select(IncidentItem.item_id).where(
        IncidentItem.incident_id == incident.id)).scalars())
    added = [i for i in wanted if i not in linked]
    for item_id in added:
        uow.session.add(IncidentItem(incident_id=incident.id, item_id=item_id))
    return added


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone")
    if value is not None and value > utcnow():
        raise ValueError(f"{name} cannot be in the future")
    return value


def declare_incident(uow: UnitOfWork, *, actor: Actor, title: str, severity: str, item_ids: Iterable[int] = (),
                     summary: str = "", aware_at: datetime | None = None,
                     classified_at: datetime | None = None) -> int:
    """Open an incident (from selected items or from scratch). The declarer commands until someone
    else is named. Awareness defaults to now: the GDPR and NYDFS clocks start from it."""
    require(actor, Action.INCIDENT_DECLARE)
    if not title.strip():
        raise ValueError("an incident needs a title")
    severity = Severity(severity).value
    aware_at = _moment(aware_at, "aware_at") or utcnow()
    with uow:
        incident = Incident(title=title.strip()[:300], severity=severity, summary=summary.strip(),
                            commander=actor.id, declared_by=actor.id, aware_at=aware_at,
                            classified_at=_moment(classified_at, "classified_at"))
        uow.session.add(incident)
        uow.session.flush()
        linked = _link(uow, incident, item_ids)
        uow.record(actor, "incident.declared", "incident", incident.id, after={
            "title": incident.title, "severity": severity, "status": incident.status, "items": linked,
            "aware_at": aware_at.isoformat(), "commander": actor.id,
            "classified_at": incident.classified_at.isoformat() if incident.classified_at else None})
        uow.commit()
        return incident.id


def link_items(uow: UnitOfWork, *, actor: Actor, incident_id: int, item_ids: Iterable[int]) -> list[int]:
    require(actor, Action.INCIDENT_UPDATE)
    with uow:
        incident = _load(uow, incident_id)
        added = _link(uow, incident, item_ids)
        if added:
            uow.record(actor, "incident.items_linked", "incident", incident.id, after={"items": added})
        uow.commit()
        return added


def change_status(uow: UnitOfWork, *, actor: Actor, incident_id: int, status: str, reason: str = "") -> None:
    require(actor, Action.INCIDENT_UPDATE)
    with uow:
        incident = _load(uow, incident_id)
        before = incident.status
        check_status_change(before, status, reason)
        target = IncidentStatus(status)
        now = utcnow()
        if target is IncidentStatus.RESOLVED:
            incident.resolved_at = now
        elif target is IncidentStatus.CLOSED:
            incident.closed_at = now
        elif target is IncidentStatus.INVESTIGATING:
            incident.resolved_at = None
        incident.status = target.value
        uow.session.add(incident)
        uow.record(actor, "incident.status_changed", "incident", incident.id, before={"status": before},
                   after={"status": incident.status}, reason=reason or None)
        uow.commit()


def change_severity(uow: UnitOfWork, *, actor: Actor, incident_id: int, severity: str, reason: str) -> None:
    require(actor, Action.INCIDENT_UPDATE)
    if not reason.strip():
        raise ValueError("changing the severity needs a reason")
    with uow:
        incident = _load(uow, incident_id)
        before, incident.severity = incident.severity, Severity(severity).value
        uow.session.add(incident)
        uow.record(actor, "incident.severity_changed", "incident", incident.id, before={"severity": before},
                   after={"severity": incident.severity}, reason=reason)
        uow.commit()


def assign_roles(uow: UnitOfWork, *, actor: Actor, incident_id: int, **people: str | None) -> None:
    """Name the commander, communications lead and compliance lead (user emails; None clears)."""
    require(actor, Action.INCIDENT_UPDATE)
    if unknown := set(people) - set(ROLE_FIELDS):
        raise ValueError(f"unknown incident roles: {sorted(unknown)}")
    with uow:
        incident = _load(uow, incident_id)
        emails = {v.strip().lower() for v in people.values() if v}
        known = set(uow.session.execute(select(User.email).where(User.email.in_(emails), User.active)).scalars())
        if missing := sorted(emails - known):
            raise NotFound(f"no active user with email {', '.join(missing)}")
        before = {k: getattr(incident, k) for k in people}
        for role, email in people.items():
            setattr(incident, role, email.strip().lower() if email else None)
        after = {k: getattr(incident, k) for k in people}
        if before != after:
            uow.session.add(incident)
            uow.record(actor, "incident.roles_assigned", "incident", incident.id, before=before, after=after)
        uow.commit()


def record_moments(uow: UnitOfWork, *, actor: Actor, incident_id: int, reason: str,
                   aware_at: datetime | None = None, classified_at: datetime | None = None) -> None:
    """Set when the firm became aware, or classified the incident (as major under DORA, as a
    cybersecurity incident under NYDFS). These start legal clocks, so every change needs a reason."""
    require(actor, Action.INCIDENT_UPDATE)
    if not reason.strip():
        raise ValueError("changing the moments that start regulatory clocks needs a reason")
    changes = {k: _moment(v, k) for k, v in (("aware_at", aware_at), ("classified_at", classified_at)) if v}
    if not changes:
        raise ValueError("give aware_at or classified_at")
    with uow:
        incident = _load(uow, incident_id)
        before = {k: getattr(incident, k).isoformat() if getattr(incident, k) else None for k in changes}
        for name, value in changes.items():
            setattr(incident, name, value)
        uow.session.add(incident)
        uow.record(actor, "incident.moments_recorded", "incident", incident.id, before=before,
                   after={k: v.isoformat() for k, v in changes.items()}, reason=reason)
        uow.commit()


def add_note(uow: UnitOfWork, *, actor: Actor, incident_id: int, text: str) -> int:
    require(actor, Action.INCIDENT_UPDATE)
    if not text.strip():
        raise ValueError("a note needs text")
    with uow:
        _load(uow, incident_id)
        note = IncidentNote(incident_id=incident_id, author=actor.id, text=text.strip())
        uow.session.add(note)
        uow.session.flush()
        uow.record(actor, "incident.note_added", "incident", incident_id, after={"note_id": note.id,
                                                                                "text": note.text})
        uow.commit()
        return note.id
