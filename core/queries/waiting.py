"""What waits for one person, by their role: the counts the navigation shows beside page titles,
and what decides the page each role lands on. Only the counts a role acts on are read."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from core.adapters.db import Database
from core.domain.clocks import ClockState
from core.domain.decisions import DecisionStatus
from core.domain.lifecycle import ItemState
from core.domain.messages import MessageStatus
from core.domain.roles import Role
from core.models import Communication, Decision, MediaItem
from core.queries.incidents import active_incidents_with_clocks

DECIDERS = (Role.REVIEWER, Role.COMPLIANCE_LEAD)


@dataclass(frozen=True)
class Waiting:
    to_claim: int = 0  # held files nobody has claimed (or handed to this person)
    releases_to_approve: int = 0  # high-risk releases someone else asked for
    messages_to_approve: int = 0  # external messages someone else wrote
    clocks_overdue: int = 0  # regulatory clocks of open incidents past their deadline
    clocks_due_soon: int = 0


def _count(db: Database, query) -> int:
    with db.reader() as s:
        return int(s.execute(query).scalar_one())


def waiting_for(db: Database, *, person: str, role: Role) -> Waiting:
    counts: dict[str, int] = {}
    if role in DECIDERS:
        counts["to_claim"] = _count(db, select(func.count()).select_from(MediaItem).where(
            MediaItem.state == ItemState.QUARANTINED.value,
            or_(MediaItem.assignee.is_(None), MediaItem.assignee == person)))
    if role is Role.COMPLIANCE_LEAD:  # nobody approves their own release or their own message
        counts["releases_to_approve"] = _count(db, select(func.count()).select_from(Decision).where(
            Decision.status == DecisionStatus.PENDING_APPROVAL.value, Decision.decided_by != person))
        counts["messages_to_approve"] = _count(db, select(func.count()).select_from(Communication).where(
            Communication.status == MessageStatus.PENDING_APPROVAL.value, Communication.author != person))
    if role is Role.RESPONDER:
        states = [c["state"] for incident in active_incidents_with_clocks(db) for c in incident["clocks"]]
        counts["clocks_overdue"] = states.count(ClockState.OVERDUE)
        counts["clocks_due_soon"] = states.count(ClockState.WARNING)
    return Waiting(**counts)
