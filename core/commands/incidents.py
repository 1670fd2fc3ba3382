"""Commands on incidents: declare, link items, move status, name roles, record the moments
that start regulatory clocks, add notes. Each checks permission, audits, commits once."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.clocks import ClockRule
from core.domain.errors import NotFound
from core.domain.incidents import IncidentStatus, Severity, check_status_change
from core.domain.roles import Action, Actor
from core.models import ClockSubmission, Incident, IncidentItem, IncidentNote, MediaItem, User

ROLE_FIELDS = ("commander", "communications_lead", "compliance_lead")


def _load(uow: UnitOfWork, incident_id: int, lock: bool = False) -> Incident:
    incident = uow.session.get(Incident, incident_id, with_for_update=lock)
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
                     classified_at: datetime | None = None, determined_at: datetime | None = None) -> int:
    """Open an incident (from selected items or from scratch). The declarer commands until someone
    else is named. Awareness defaults to now: the GDPR and NYDFS clocks start from it."""
    if not title.strip():
        raise ValueError("an incident needs a title")
    severity = Severity(severity).value
    aware_at = _moment(aware_at, "aware_at") or utcnow()
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_DECLARE)
        incident = Incident(title=title.strip()[:300], severity=severity, summary=summary.strip(),
                            commander=actor.id, declared_by=actor.id, aware_at=aware_at,
                            classified_at=_moment(classified_at, "classified_at"),
                            determined_at=_moment(determined_at, "determined_at"))
        uow.session.add(incident)
        uow.session.flush()
        linked = _link(uow, incident, item_ids)
        uow.record(actor, AuditAction.INCIDENT_DECLARED, "incident", incident.id, after={
            "title": incident.title, "severity": severity, "status": incident.status, "items": linked,
            "aware_at": aware_at.isoformat(), "commander": actor.id,
            **{k: getattr(incident, k).isoformat() for k in ("classified_at", "determined_at")
               if getattr(incident, k) is not None}})
        uow.commit()
        return uow.new_id(incident)


def link_items(uow: UnitOfWork, *, actor: Actor, incident_id: int, item_ids: Iterable[int]) -> list[int]:
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
        incident = _load(uow, incident_id)
        added = _link(uow, incident, item_ids)
        if added:
            uow.record(actor, AuditAction.INCIDENT_ITEMS_LINKED, "incident", incident.id, after={"items": added})
        uow.commit()
        return added


def change_status(uow: UnitOfWork, *, actor: Actor, incident_id: int, status: str, reason: str = "") -> None:
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
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
        uow.record(actor, AuditAction.INCIDENT_STATUS_CHANGED, "incident", incident.id, before={"status": before},
                   after={"status": incident.status}, reason=reason or None)
        uow.commit()


def change_severity(uow: UnitOfWork, *, actor: Actor, incident_id: int, severity: str, reason: str) -> None:
    if not reason.strip():
        raise ValueError("changing the severity needs a reason")
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
        incident = _load(uow, incident_id)
        before, incident.severity = incident.severity, Severity(severity).value
        uow.session.add(incident)
        uow.record(actor, AuditAction.INCIDENT_SEVERITY_CHANGED, "incident", incident.id, before={"severity": before},
                   after={"severity": incident.severity}, reason=reason)
        uow.commit()


def assign_roles(uow: UnitOfWork, *, actor: Actor, incident_id: int, **people: str | None) -> None:
    """Name the commander, communications lead and compliance lead (user emails; None clears)."""
    if unknown := set(people) - set(ROLE_FIELDS):
        raise ValueError(f"unknown incident roles: {sorted(unknown)}")
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
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
            uow.record(actor, AuditAction.INCIDENT_ROLES_ASSIGNED, "incident", incident.id, before=before, after=after)
        uow.commit()


MOMENTS = ("aware_at", "classified_at", "determined_at")  # the incident's clock-starting moments


def record_moments(uow: UnitOfWork, *, actor: Actor, incident_id: int, reason: str = "",
                   aware_at: datetime | None = None, classified_at: datetime | None = None,
                   determined_at: datetime | None = None) -> None:
    """Record when the firm became aware, classified the incident as major (DORA) or determined it
    to be a cybersecurity incident (NYDFS). Each starts legal clocks, so each is recorded once:
    changing a recorded moment is a correction, for a compliance lead only, with a reason."""
    given = {"aware_at": aware_at, "classified_at": classified_at, "determined_at": determined_at}
    changes = {k: _moment(v, k) for k, v in given.items() if v is not None}
    if not changes:
        raise ValueError("give aware_at, classified_at or determined_at")
    with uow:
        incident = _load(uow, incident_id, lock=True)
        recorded = {k: getattr(incident, k) for k in changes if getattr(incident, k) is not None}
        corrections = {k for k in recorded if recorded[k] != changes[k]}
        if corrections:
            actor = uow.authorize(actor, Action.INCIDENT_CORRECT_MOMENTS)
            if not reason.strip():
                raise ValueError("correcting a moment that starts a regulatory clock needs a reason")
        else:
            actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
        new = {k: v for k, v in changes.items() if k not in recorded or k in corrections}
        if not new:
            return
        before = {k: getattr(incident, k).isoformat() if getattr(incident, k) else None for k in new}
        for name, value in new.items():
            setattr(incident, name, value)
        uow.session.add(incident)
        uow.record(actor, AuditAction.INCIDENT_MOMENTS_CORRECTED if corrections else AuditAction.INCIDENT_MOMENTS_RECORDED,
                   "incident", incident.id, before=before, after={k: v.isoformat() for k, v in new.items()},
                   reason=reason.strip() or None)
        uow.commit()


def record_submission(uow: UnitOfWork, *, actor: Actor, incident_id: int, clock_rule: str, submitted_at: datetime,
                      channel: str, reference: str, note: str = "", rules: list[ClockRule] | None = None) -> int:
    """A compliance lead records a notification made outside Response Desk (the regulator's portal,
    a call with a case number). It stops the rule's clock as an approved message would."""
    from core.adapters.clock_rules import load_rules

    known = {r.id for r in (load_rules() if rules is None else rules)}
    if clock_rule not in known:
        raise ValueError(f"no clock rule {clock_rule!r}")
    if not channel.strip() or not reference.strip():
        raise ValueError("say how it was submitted and give the reference the recipient issued (case number, "
                         "portal receipt)")
    if _moment(submitted_at, "submitted_at") is None:
        raise ValueError("say when it was submitted")
    with uow:
        actor = uow.authorize(actor, Action.CLOCK_RECORD_SUBMISSION)
        _load(uow, incident_id)
        row = ClockSubmission(incident_id=incident_id, clock_rule=clock_rule, submitted_at=submitted_at,
                              channel=channel.strip()[:200], reference=reference.strip()[:200], note=note.strip(),
                              recorded_by=actor.id)
        uow.session.add(row)
        uow.session.flush()
        uow.record(actor, AuditAction.INCIDENT_SUBMISSION_RECORDED, "incident", incident_id, after={
            "submission_id": row.id, "clock_rule": clock_rule, "submitted_at": submitted_at.isoformat(),
            "channel": row.channel, "reference": row.reference})
        uow.commit()
        return uow.new_id(row)


def add_note(uow: UnitOfWork, *, actor: Actor, incident_id: int, text: str) -> int:
    if not text.strip():
        raise ValueError("a note needs text")
    with uow:
        actor = uow.authorize(actor, Action.INCIDENT_UPDATE)
        _load(uow, incident_id)
        note = IncidentNote(incident_id=incident_id, author=actor.id, text=text.strip())
        uow.session.add(note)
        uow.session.flush()
        uow.record(actor, AuditAction.INCIDENT_NOTE_ADDED, "incident", incident_id, after={"note_id": note.id,
                                                                                "text": note.text})
        uow.commit()
        return uow.new_id(note)
