"""Regulatory clocks: each rule says which recorded moment starts it, how long the firm has,
which message stops it, and the legal text it comes from. Rules live in configuration
(data/regulatory_clocks.toml, or the file RD_CLOCKS_FILE names, read by core.adapters.clock_rules);
this module parses and evaluates them, with no I/O."""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

TIMESTAMPS = ("aware_at", "classified_at", "determined_at")  # recorded on the incident, once each
SENT_FIRST, SENT_LAST = "sent_first:", "sent_last:"  # started by a message that satisfied another rule


class ClockState:
    NOT_STARTED = "not_started"
    RUNNING = "running"
    WARNING = "warning"
    OVERDUE = "overdue"
    MET = "met"


STATE_LABELS = {ClockState.NOT_STARTED: "Not started", ClockState.RUNNING: "Running", ClockState.WARNING: "Due soon",
                ClockState.OVERDUE: "Overdue", ClockState.MET: "Met"}
# The recorded moments that start clocks, in words.
MOMENT_LABELS = {"aware_at": "Aware of the incident", "classified_at": "Classified as major (DORA)",
                 "determined_at": "Determined a cybersecurity incident (NYDFS)"}


@dataclass(frozen=True)
class Period:
    hours: float = 0.0
    months: int = 0

    def after(self, moment: datetime) -> datetime:
        """Calendar months keep the day of month (clamped to the month's end): 31 Jan + 1 month = 28/29 Feb."""
        if self.months:
            month0 = moment.month - 1 + self.months
            year, month = moment.year + month0 // 12, month0 % 12 + 1
            moment = moment.replace(year=year, month=month,
                                    day=min(moment.day, calendar.monthrange(year, month)[1]))
        return moment + timedelta(hours=self.hours)

    def __str__(self) -> str:
        parts = ([f"{self.months} month" + ("s" if self.months > 1 else "")] if self.months else []) + \
                ([f"{self.hours:g} hours"] if self.hours else [])
        return " and ".join(parts) or "0 hours"


@dataclass(frozen=True)
class ClockRule:
    id: str
    title: str
    source: str  # the legal citation
    audience: str
    start: tuple[str, ...]  # the first of these that is recorded starts the clock
    within: Period
    kind: str = "deadline"  # deadline (set by law) | target (law says "without undue delay")
    latest: tuple[tuple[str, ...], Period] | None = None  # a second, absolute bound: whichever is earlier
    warn_before: tuple[timedelta, ...] = (timedelta(hours=24),)
    severities: frozenset[str] = frozenset({"SEV1", "SEV2", "SEV3"})
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class ClockFacts:
    """What an incident has recorded: its moments, and when messages satisfying each rule were sent."""

    severity: str
    aware_at: datetime | None = None
    classified_at: datetime | None = None
    determined_at: datetime | None = None
    sent: Mapping[str, list[datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockStatus:
    rule_id: str
    title: str
    source: str
    url: str
    kind: str
    audience: str
    state: str
    started_at: datetime | None
    started_by: str | None  # which recorded moment started it
    deadline: datetime | None
    remaining_s: float | None
    met_at: datetime | None
    met_late: bool
    note: str


def _moment(name: str, facts: ClockFacts) -> datetime | None:
    if name in TIMESTAMPS:
        moment: datetime | None = getattr(facts, name)
        return moment
    for prefix, pick in ((SENT_FIRST, min), (SENT_LAST, max)):
        if name.startswith(prefix):
            sent = facts.sent.get(name[len(prefix):]) or []
            return pick(sent) if sent else None
    raise ValueError(f"unknown clock start {name!r}")


def _first_recorded(names: tuple[str, ...], facts: ClockFacts) -> tuple[str | None, datetime | None]:
    for name in names:
        moment = _moment(name, facts)
        if moment is not None:
            return name, moment
    return None, None


def evaluate(rule: ClockRule, facts: ClockFacts, now: datetime) -> ClockStatus | None:
    """The rule's state for this incident at `now`; None when the rule does not apply to its severity."""
    if facts.severity not in rule.severities:
        return None
    started_by, started_at = _first_recorded(rule.start, facts)
    deadline = rule.within.after(started_at) if started_at else None
    if deadline is not None and rule.latest is not None:
        _, bound_start = _first_recorded(rule.latest[0], facts)
        if bound_start is not None:
            deadline = min(deadline, rule.latest[1].after(bound_start))
    sent = facts.sent.get(rule.id) or []
    met_at = min(sent) if sent else None
    remaining = (deadline - now).total_seconds() if deadline else None
    if met_at is not None:
        state = ClockState.MET
    elif deadline is None or remaining is None:
        state = ClockState.NOT_STARTED
    elif remaining < 0:
        state = ClockState.OVERDUE
    elif rule.warn_before and remaining <= max(rule.warn_before).total_seconds():
        state = ClockState.WARNING
    else:
        state = ClockState.RUNNING
    return ClockStatus(rule.id, rule.title, rule.source, rule.url, rule.kind, rule.audience, state, started_at,
                       started_by, deadline, remaining, met_at,
                       bool(met_at and deadline and met_at > deadline), rule.note)


def evaluate_all(rules: list[ClockRule], facts: ClockFacts, now: datetime) -> list[ClockStatus]:
    return [s for s in (evaluate(r, facts, now) for r in rules) if s is not None]


def _period(raw: Mapping[str, Any], rule_id: str) -> Period:
    hours, months = float(raw.get("within_hours", 0)), int(raw.get("within_months", 0))
    if hours <= 0 and months <= 0:
        raise ValueError(f"clock rule {rule_id}: give within_hours or within_months")
    return Period(hours=hours, months=months)


def _starts(raw: Any, rule_id: str) -> tuple[str, ...]:
    names = (raw,) if isinstance(raw, str) else tuple(raw or ())
    for name in names:
        if name not in TIMESTAMPS and not name.startswith((SENT_FIRST, SENT_LAST)):
            raise ValueError(f"clock rule {rule_id}: start {name!r} is not one of {TIMESTAMPS} "
                             f"or {SENT_FIRST}<rule> / {SENT_LAST}<rule>")
    if not names:
        raise ValueError(f"clock rule {rule_id}: no start")
    return names


def parse_rules(data: Mapping[str, Any]) -> list[ClockRule]:
    rules = []
    for raw in data.get("rule", []):
        rule_id = raw.get("id") or "?"
        for required in ("id", "title", "source", "audience", "start"):
            if not raw.get(required):
                raise ValueError(f"clock rule {rule_id}: {required} is required (every rule cites its source)")
        if raw.get("kind", "deadline") not in ("deadline", "target"):
            raise ValueError(f"clock rule {rule_id}: kind must be deadline or target")
        latest = raw.get("latest")
        rules.append(ClockRule(
            id=raw["id"], title=raw["title"], source=raw["source"], audience=raw["audience"],
            start=_starts(raw["start"], rule_id), within=_period(raw, rule_id), kind=raw.get("kind", "deadline"),
            latest=(_starts(latest["start"], rule_id), _period(latest, rule_id)) if latest else None,
            warn_before=tuple(timedelta(hours=float(h)) for h in raw.get("warn_hours", [24])),
            severities=frozenset(raw.get("severities", ["SEV1", "SEV2", "SEV3"])),
            url=raw.get("url", ""), note=" ".join(raw.get("note", "").split())))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError("clock rule ids must be unique")
    known = set(ids)
    for rule in rules:
        for name in rule.start + (rule.latest[0] if rule.latest else ()):
            if name.startswith((SENT_FIRST, SENT_LAST)) and name.split(":", 1)[1] not in known:
                raise ValueError(f"clock rule {rule.id}: starts from unknown rule {name}")
    return rules
