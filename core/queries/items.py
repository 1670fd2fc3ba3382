"""Queries about media items for the Live and Review pages."""
from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
from sqlalchemy import String, and_, cast, exists, func, or_, select

from core.adapters.db import Database
from core.adapters.people import authorize_read
from core.clock import utcnow
from core.domain.decisions import DecisionStatus
from core.domain.lifecycle import HELD, UNVERIFIED, ItemState
from core.domain.roles import Action, Actor
from core.domain.scan import finding
from core.models import AuditEvent, Decision, HashBankEntry, MediaItem, Signal, User, Verdict
from core.queries.sql import FLAGGED_RISKS, QUIET_LABELS, minute_of

QUEUE_STATES = (ItemState.QUARANTINED.value, ItemState.IN_REVIEW.value)
SF_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")


def state_counts(db: Database, states=tuple(ItemState)) -> dict[str, int]:
    """Items per state; only the states asked for, so the index range stays small."""
    wanted = [ItemState(s).value for s in states]
    with db.reader() as s:
        rows = s.execute(select(MediaItem.state, func.count()).where(MediaItem.state.in_(wanted))
                         .group_by(MediaItem.state)).all()
    counts = dict.fromkeys(wanted, 0)
    counts.update({state: n for state, n in rows})
    return counts


def live_summary(db: Database) -> dict[str, object]:
    """Headline numbers for responders: verified in recent windows, held, waiting, oldest backlog."""
    now = utcnow()
    with db.reader() as s:
        def verified_since(delta: timedelta) -> int:
            return s.execute(select(func.count()).select_from(MediaItem)
                             .where(MediaItem.scanned_at >= now - delta)).scalar_one()

        oldest = s.execute(select(func.min(MediaItem.received_at))
                           .where(MediaItem.state.in_([x.value for x in UNVERIFIED]))).scalar_one()
        flagged_day = s.execute(select(func.count()).select_from(MediaItem).where(
            MediaItem.scanned_at >= now - timedelta(days=1), MediaItem.risk.in_(FLAGGED_RISKS))).scalar_one()
        summary = {
            "verified_15m": verified_since(timedelta(minutes=15)),
            "verified_1h": verified_since(timedelta(hours=1)),
            "verified_24h": verified_since(timedelta(days=1)),
            "flagged_24h": flagged_day,
        }
    counts = state_counts(db, HELD | UNVERIFIED)
    summary.update({
        "held_now": sum(counts[s.value] for s in HELD),
        "awaiting_review": counts[ItemState.QUARANTINED.value],
        "in_review": counts[ItemState.IN_REVIEW.value],
        "unverified": sum(counts[s.value] for s in UNVERIFIED),
        "oldest_unverified_s": None if oldest is None else (now - oldest).total_seconds(),
    })
    return summary


def per_minute(db: Database, minutes: int = 60) -> pd.DataFrame:
    """Verifications and flags per minute over the last `minutes`, zero-filled."""
    now = utcnow()
    minute = minute_of(db, Verdict.created_at).label("minute")
    flagged = func.count().filter(Verdict.risk.in_(FLAGGED_RISKS)).label("flagged")
    with db.reader() as s:
        rows = s.execute(select(minute, func.count().label("verified"), flagged)
                         .where(Verdict.created_at >= now - timedelta(minutes=minutes))
                         .group_by(minute)).all()
    frame = pd.DataFrame(rows, columns=["minute", "verified", "flagged"])
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    end = pd.Timestamp(now).floor("min")
    index = pd.date_range(end - pd.Timedelta(minutes=minutes - 1), end, freq="min")
    frame = frame.set_index("minute").reindex(index, fill_value=0).rename_axis("minute").reset_index()
    return frame.astype({"verified": int, "flagged": int})


FEED_COLUMNS = ["id", "file_name", "risk", "state", "source_object", "scanned_at"]


def recent_high_risk(db: Database, limit: int = 15) -> pd.DataFrame:
    with db.reader() as s:
        rows = s.execute(select(*[getattr(MediaItem, c) for c in FEED_COLUMNS])
                         .where(MediaItem.risk == "high")
                         .order_by(MediaItem.scanned_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=FEED_COLUMNS)


QUEUE_COLUMNS = ["id", "file_name", "state", "risk", "source_object", "assignee", "received_at",
                 "scanned_at", "unscannable_reason"]
UNASSIGNED = "(unassigned)"


def _fired(detector: str):
    return exists().where(Signal.item_id == MediaItem.id, Signal.name == detector,
                          Signal.label.not_in(QUIET_LABELS))


def _queue_filter(*, risks=(), source_object=None, assignee=None, detector=None, older_than_hours=None):
    conditions = [MediaItem.state.in_(QUEUE_STATES)]
    if risks:
        conditions.append(MediaItem.risk.in_(list(risks)))
    if source_object:
        conditions.append(MediaItem.source_object == source_object)
    if assignee == UNASSIGNED:
        conditions.append(MediaItem.assignee.is_(None))
    elif assignee:
        conditions.append(MediaItem.assignee == assignee)
    if detector:
        conditions.append(_fired(detector))
    if older_than_hours:
        conditions.append(MediaItem.scanned_at <= utcnow() - timedelta(hours=older_than_hours))
    return and_(*conditions)


def review_queue(db: Database, *, sla_hours: float = 4.0, limit: int = 200, **filters) -> pd.DataFrame:
    """Items waiting for a person, oldest first (the SLA clock runs from the scan), with whether
    each is past the SLA and whether a release of it waits for a second approver."""
    columns = [getattr(MediaItem, c) for c in QUEUE_COLUMNS]
    with db.reader() as s:
        rows = s.execute(select(*columns, _release_pending().label("release_pending"))
                         .where(_queue_filter(**filters))
                         .order_by(MediaItem.scanned_at.asc(), MediaItem.id.asc()).limit(limit)).all()
    frame = pd.DataFrame(rows, columns=[*QUEUE_COLUMNS, "release_pending"])
    age = (pd.Timestamp(utcnow()) - pd.to_datetime(frame["scanned_at"], utc=True)).dt.total_seconds() / 3600
    frame["past_sla"] = (age.fillna(0) > sla_hours).astype(bool)
    frame["release_pending"] = frame["release_pending"].astype(bool)
    return frame


def queue_stats(db: Database, *, sla_hours: float, **filters) -> dict[str, int]:
    """How many items match the filters, how many are past the SLA, how many nobody holds."""
    breach = MediaItem.scanned_at <= utcnow() - timedelta(hours=sla_hours)
    with db.reader() as s:
        total, breached, unassigned = s.execute(select(
            func.count(), func.count().filter(breach), func.count().filter(MediaItem.assignee.is_(None)))
            .where(_queue_filter(**filters))).one()
    return {"total": total, "breached": breached, "unassigned": unassigned}


def queue_filter_options(db: Database) -> dict[str, list[str]]:
    """Choices for the queue's filters, read through indexes (loose index scans)."""
    from core.queries.sql import distinct_values

    return {"source_object": distinct_values(db, "media_item", "source_object"),
            "assignee": distinct_values(db, "media_item", "assignee"),
            "detector": distinct_values(db, "signal", "name")}


def reviewers(db: Database) -> list[str]:
    with db.reader() as s:
        return list(s.execute(select(User.email).where(User.active, User.role.in_(["reviewer", "compliance_lead"]))
                              .order_by(User.email)).scalars())


def _release_pending():
    return exists().where(Decision.item_id == MediaItem.id, Decision.status == DecisionStatus.PENDING_APPROVAL)


def next_in_queue(db: Database, *, reviewer: str, exclude: int | None = None, **filters) -> int | None:
    """The item this reviewer should open next among those the queue's filters show: their own
    claimed item first, then the oldest one nobody holds (or handed to them). Skipped, because they
    cannot act on it: an item someone else holds, and one whose release waits for a second approver
    (theirs or another's: core.commands.items._check_claim refuses any decision on it)."""
    with db.reader() as s:
        base = (select(MediaItem.id).where(_queue_filter(**filters), ~_release_pending())
                .order_by(MediaItem.scanned_at.asc(), MediaItem.id.asc()).limit(1))
        if exclude is not None:
            base = base.where(MediaItem.id != exclude)
        mine = s.execute(base.where(MediaItem.state == ItemState.IN_REVIEW.value,
                                    MediaItem.assignee == reviewer)).scalar_one_or_none()
        if mine is not None:
            return mine
        return s.execute(base.where(MediaItem.state == ItemState.QUARANTINED.value,
                                    or_(MediaItem.assignee.is_(None), MediaItem.assignee == reviewer))
                         ).scalar_one_or_none()


def claimable(db: Database, *, item_id: int, reviewer: str) -> bool:
    """Whether opening this item should claim it for the reviewer: it waits for review and nobody
    else holds it or was handed it."""
    with db.reader() as s:
        row = s.execute(select(MediaItem.state, MediaItem.assignee).where(MediaItem.id == item_id)).first()
    return row is not None and row.state == ItemState.QUARANTINED.value and row.assignee in (None, reviewer)


PENDING_COLUMNS = ["decision_id", "item_id", "file_name", "requested_by", "reason_code", "note", "requested_at"]


def pending_releases(db: Database, item_id: int | None = None) -> pd.DataFrame:
    """High-risk releases waiting for a second approver."""
    query = (select(Decision.id, Decision.item_id, MediaItem.file_name, Decision.decided_by,
                    Decision.reason_code, Decision.note, Decision.decided_at)
             .join(MediaItem, MediaItem.id == Decision.item_id)
             .where(Decision.status == DecisionStatus.PENDING_APPROVAL).order_by(Decision.decided_at))
    if item_id is not None:
        query = query.where(Decision.item_id == item_id)
    with db.reader() as s:
        rows = s.execute(query).all()
    return pd.DataFrame(rows, columns=PENDING_COLUMNS)


def record_url(org_base: str | None, record_id: str) -> str | None:
    """A link into the org, only for an http(s) base and a well-formed record id."""
    if not org_base or not org_base.startswith(("https://", "http://")) or not SF_ID.match(str(record_id)):
        return None
    return f"{org_base.rstrip('/')}/{record_id}"


def item_detail(db: Database, *, actor: Actor, item_id: int) -> dict | None:
    """Everything the item view shows, as plain data. Text fields are returned as they are: the
    page renders them as text, never as HTML."""
    authorize_read(db, actor, Action.ITEM_READ)
    with db.reader() as s:
        item = s.get(MediaItem, item_id)
        if item is None:
            return None
        verdict = s.execute(select(Verdict).where(Verdict.item_id == item_id)
                            .order_by(Verdict.id.desc()).limit(1)).scalar_one_or_none()
        signals = [] if verdict is None else s.execute(
            select(Signal).where(Signal.verdict_id == verdict.id).order_by(Signal.id)).scalars().all()
        decisions = s.execute(select(Decision).where(Decision.item_id == item_id).order_by(Decision.id)).scalars().all()
        history = s.execute(select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action,
                                   AuditEvent.reason, AuditEvent.after)
                            .where(AuditEvent.object_type == "media_item", AuditEvent.object_id == str(item_id))
                            .order_by(AuditEvent.seq)).all()
        detail = {
            "item": {c: getattr(item, c) for c in (
                "id", "file_name", "state", "risk", "source", "source_object", "declared_type", "size_bytes",
                "sha256", "uploaded_by", "uploaded_at", "received_at", "scanned_at", "decided_at", "assignee",
                "org_id", "unscannable_reason", "storage_path", "external_id")},
            "provenance": dict(item.provenance or {}),
            "reasons": list(verdict.reasons) if verdict else [],
            "signals": [{"name": x.name, "version": x.version, "score": x.score, "label": x.label,
                         "evidence": dict(x.evidence or {}), "explanation_path": x.explanation_path}
                        for x in signals],
            "decisions": [{"id": d.id, "kind": d.kind, "status": d.status, "reason_code": d.reason_code,
                           "note": d.note, "decided_by": d.decided_by, "decided_at": d.decided_at,
                           "approved_by": d.approved_by} for d in decisions],
            "history": pd.DataFrame(history, columns=["seq", "occurred_at", "actor", "action", "reason", "after"]),
            "records": [{**link, "url": record_url(item.org_id, link.get("entity_id", ""))}
                        for link in (item.linked_records or [])],
        }
        detail["findings"] = findings(detail["signals"])
        detail["bank_match"] = _bank_match(s, detail["signals"])
        detail["other_files"] = [] if detail["bank_match"] else _customer_files(s, item)
    return detail


def findings(signals: list[dict]) -> list[dict]:
    """What the detectors found, in words, leaving out those that found nothing."""
    return [{"detector": x["name"], "finding": finding(x["label"])} for x in signals if x["label"] not in QUIET_LABELS]


def _bank_match(s, signals: list[dict]) -> dict | None:
    """The stored known-synthetic file this item matched, if the bank entry came from one."""
    matches = [m for x in signals if x["name"] == "hash" for m in x["evidence"].get("matches", [])
               if m.get("bank") == "known_synthetic" and m.get("entry_id") is not None]
    for m in sorted(matches, key=lambda m: m.get("distance", 0)):
        row = s.execute(select(MediaItem.id, MediaItem.file_name, MediaItem.storage_path)
                        .join(HashBankEntry, HashBankEntry.item_id == MediaItem.id)
                        .where(HashBankEntry.id == int(m["entry_id"]))).first()
        if row and row.storage_path:
            return {"item_id": row.id, "file_name": row.file_name, "kind": m.get("kind"),
                    "distance": m.get("distance"), "entry_id": m["entry_id"]}
    return None


def _customer_files(s, item: MediaItem, limit: int = 6, window_days: int = 14, max_scan: int = 20_000) -> list[dict]:
    """Other files on the same customer record, among the files received within `window_days` of
    this one (at most `max_scan` of them). linked_records is JSON without an index of its own, so
    the search is bounded; a link table indexed by record id would lift the bound."""
    ids = [str(link.get("entity_id")) for link in (item.linked_records or []) if SF_ID.match(str(link.get("entity_id")))]
    if not ids:
        return []
    window = timedelta(days=window_days)
    nearby = (select(MediaItem.id).where(MediaItem.received_at.between(item.received_at - window,
                                                                       item.received_at + window))
              .order_by(MediaItem.received_at.desc()).limit(max_scan).scalar_subquery())
    text = cast(MediaItem.linked_records, String)
    rows = s.execute(select(MediaItem.id, MediaItem.file_name, MediaItem.state, MediaItem.risk)
                     .where(MediaItem.id.in_(nearby), MediaItem.id != item.id,
                            or_(*[text.like(f"%{i}%") for i in ids[:3]]))
                     .order_by(MediaItem.received_at.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def verdict_report(db: Database, item_id: int) -> dict | None:
    """The item's latest verdict in the scan report's shape, or None while it has none."""
    from core.domain.scan import outcome_report
    from core.models import Signal, Verdict

    with db.reader() as s:
        item = s.get(MediaItem, item_id)
        verdict = s.execute(select(Verdict).where(Verdict.item_id == item_id)
                            .order_by(Verdict.id.desc()).limit(1)).scalar_one_or_none()
        if item is None or verdict is None:
            return None
        signals = s.execute(select(Signal).where(Signal.verdict_id == verdict.id).order_by(Signal.id)).scalars().all()
    from core.domain.scan import ScanOutcome, SignalRecord

    outcome = ScanOutcome(risk=verdict.risk, reasons=tuple(verdict.reasons), sha256=item.sha256,
                          unscannable_reason=verdict.unscannable_reason,
                          signals=tuple(SignalRecord(x.name, x.version, x.score, x.label, x.evidence,
                                                     x.explanation_path) for x in signals))
    return {**outcome_report(item.file_name, outcome), "item_id": item.id, "state": item.state}
