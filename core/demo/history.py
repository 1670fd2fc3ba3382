"""Ninety days of history for the demo org, so that Trends, Audit, Incidents and the review queue have
something true to show on the first run: files verified day by day, reviewers' decisions (some past
the SLA, some false positives released), incidents declared and run to closure, and a detector whose
scores drift.

Written by the product's own commands, each with the clock set to the moment it happened
(core.clock.at), in time order, so every row and audit event is exactly what the product would have
written that day and the audit chain verifies. The verdicts come from the engine's own rules
(core.verification.verdict.decide) over the signals a file of each family gives. `make run`'s demo
calls it once per database, before the worker and the dashboard start (core/entrypoints/launcher.py);
it refuses to run outside demo mode."""
from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core import clock
from core.commands import incidents, items
from core.commands.users import demo_email, ensure_demo_users
from core.demo.traffic import DEMO_SEED as BANK_SEED  # the traffic's near-duplicates are of the originals banked here
from core.domain.incidents import IncidentStatus
from core.domain.lifecycle import ItemState
from core.domain.roles import Actor, Role
from core.domain.scan import ScanOutcome, SignalRecord
from core.models import HashBankEntry, MediaItem
from core.verification import corpus
from core.verification.hashing import phash
from core.verification.setup import engine_config
from core.verification.verdict import decide

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App

log = logging.getLogger("responsedesk.demo")
SOURCE, PREFIX = "api", "history-"
SYSTEM = Actor.system("demo-history")
SCORER = "spectrum_mlp"  # the reference model that scores every file (data/models/spectrum_mlp)
CONFIRM_REASON = {"metadata": "generator_traces", "c2pa": "provenance_declares_ai", "near": "known_synthetic_match",
                  "original": "generator_traces"}


@dataclass
class Plan:
    """What happens when: (moment, step) pairs run in time order; `ids` names the items made so far."""

    events: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def at(self, moment: datetime, step: Callable[[], None]) -> None:
        self.events.append((moment, len(self.events), step))


def seed_history(app: App, *, days: int = 90, per_day: float = 3.0, records: list[dict[str, Any]] = (),
                 seed: int = 5) -> int:
    """Write `days` of history ending now; returns the files written (0 when history is there already)."""
    if not app.settings.demo_mode:
        raise RuntimeError("the demo history is written in demo mode only")
    with app.db.reader() as s:
        if s.execute(select(MediaItem.id).where(MediaItem.external_id.like(f"{PREFIX}%")).limit(1)).first():
            return 0
    rng, now = random.Random(seed), clock.utcnow()
    start = now - timedelta(days=days)
    with clock.at(start):
        ensure_demo_users(app.db, app.uow)
    files = Files(app, rng)
    plan = Plan()
    for k in range(3):  # day one: three generated originals, confirmed the next day: the bank's first entries
        _file(plan, app, files, rng, f"original-{k}", start + timedelta(hours=9 + k), "original", records, now,
              image=files.original(k))
    for day in range(days):
        for n in range(_poisson(rng, per_day)):
            when = start + timedelta(days=day, hours=rng.uniform(7, 19))
            family = rng.choices(["genuine", "metadata", "c2pa", "near"], [70, 12, 9, 9])[0]
            family = "metadata" if family == "near" and day < 2 else family  # the bank fills on day two
            _file(plan, app, files, rng, f"{day}-{n}", when, family, records, now, drift=day / days)
    for days_ago, severity in ((80, "SEV3"), (62, "SEV2"), (45, "SEV2"), (30, "SEV1"), (14, "SEV2"), (4, "SEV2")):
        _incident(plan, app, rng, now - timedelta(days=days_ago), severity, now)
    for moment, _, step in sorted(plan.events, key=lambda e: (e[0], e[1])):
        with clock.at(moment):
            step()
    log.info("demo history: %d files over %d days", len(plan.ids), days)
    return len(plan.ids)


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count, total = count + 1, total + rng.expovariate(1.0)
    return count


class Files:
    """The pictures behind the history, made once: genuine photos, generated images, the bank's originals."""

    def __init__(self, app: App, rng: random.Random):
        self.app, self.rng = app, rng
        self.genuine = [corpus.genuine_photo(100 + n, size=(320, 240)) for n in range(8)]
        self.generated = [s.data for s in corpus.metadata_samples(3) if s.expect == "high"]
        self.originals = [corpus.natural_image(BANK_SEED + 200 + k, (640, 480)) for k in range(3)]
        self.config = engine_config()  # the engine's rules and thresholds, as the worker's scans use them

    def original(self, k: int):
        return self.originals[k]

    def stored(self, data: bytes) -> tuple[str, str]:
        kept = self.app.media.put(data)
        return kept.sha256, str(kept.path)


def _signals(rng: random.Random, family: str, image, drift: float, bank: int | None) -> tuple[SignalRecord, ...]:
    """What the detectors say of a file of this family. The model's scores of genuine files creep up over
    the ninety days (the drift Trends shows); generated files score high."""
    genuine_mean = 0.3 + 0.3 * drift
    score = min(max(rng.gauss(genuine_mean, 0.18) if family == "genuine" else rng.gauss(0.9, 0.06), 0.0), 1.0)
    matches = [] if bank is None else [{"bank": "known_synthetic", "kind": "perceptual", "entry_id": bank,
                                        "distance": rng.randint(2, 8), "source": "confirmed"}]
    return (
        SignalRecord("hash", "sha256+phash1", None, "known_synthetic_near" if matches else "no_match",
                     {"phash": phash(image), "matches": matches}),
        SignalRecord("c2pa", "0.38", None, "ai_declared" if family == "c2pa" else "no_manifest",
                     {"digital_source_types": ["trainedAlgorithmicMedia"], "state": "Valid"} if family == "c2pa" else {}),
        SignalRecord("generator_metadata", "1", None,
                     "generator_parameters" if family in ("metadata", "original") else "none",
                     {"generator_fields": {"PNG text parameters": "portrait photo of a client, Steps: 30, "
                                                                 "Sampler: DPM++ 2M"}}
                     if family in ("metadata", "original") else {}),
        SignalRecord(SCORER, "1.0.0", round(score, 4), "synthetic" if score >= 0.828199 else "no_trace_found", {}),
    )


def _file(plan: Plan, app: App, files: Files, rng: random.Random, key: str, when: datetime, family: str,
          records: list[dict[str, Any]], now: datetime, *, image=None, drift: float = 0.0) -> None:
    image = image or (files.original(rng.randrange(3)) if family == "near" else None)
    data = (corpus.png(image) if family == "original" else corpus.variants(image)["q60"] if family == "near"
            else rng.choice(files.genuine if family == "genuine" else files.generated))
    pil = image or _decode(data)
    link = [dict(rng.choice(records))] if records else []

    def arrive() -> None:
        sha256, path = files.stored(data)
        plan.ids[key] = items.register_item(
            app.uow(), actor=SYSTEM, source=SOURCE, external_id=PREFIX + key, file_name=_name(family, key),
            declared_type="image/png" if data.startswith(b"\x89PNG") else "image/jpeg", size_bytes=len(data),
            sha256=sha256, storage_path=path, source_object=link[0]["entity_type"] if link else "KYC_Check__c",
            uploaded_by=rng.choice(["kyc.morgan", "kyc.sam", "advisor.ruth"]), linked_records=link,
            provenance={"demo_history": True, "family": family})
        items.begin_scan(app.uow(), actor=SYSTEM, item_id=plan.ids[key])
        bank = _bank_entry(app) if family == "near" else None
        signals = _signals(rng, family, pil, drift, bank)
        risk, reasons = decide(signals, files.config)
        items.record_scan_result(app.uow(), actor=SYSTEM, item_id=plan.ids[key], outcome=ScanOutcome(
            risk=risk, reasons=reasons, signals=signals, sha256=sha256))

    plan.at(when, arrive)
    decided = when + timedelta(hours=rng.lognormvariate(0.6, 0.9) if family != "original" else 20)
    if decided < now - timedelta(hours=30):  # the last day's flags still wait in the queue
        plan.at(decided, lambda: _decide(app, plan.ids[key], family, rng))


def _decode(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _name(family: str, key: str) -> str:
    label = {"genuine": "selfie", "metadata": "id_document", "c2pa": "passport_scan", "near": "id_document",
             "original": "id_document"}[family]
    return f"{label}_{hashlib.sha256(key.encode()).hexdigest()[:6]}.{'png' if family == 'original' else 'jpg'}"


def _bank_entry(app: App) -> int | None:
    with app.db.reader() as s:
        return s.execute(select(HashBankEntry.id).where(HashBankEntry.bank == "known_synthetic")
                         .order_by(HashBankEntry.id).limit(1)).scalar_one_or_none()


def _person(role: Role) -> Actor:
    return Actor(demo_email(role), role)


def _decide(app: App, item_id: int, family: str, rng: random.Random) -> None:
    """A reviewer claims a held file and confirms it, or releases a false positive."""
    with app.db.reader() as s:
        state = s.execute(select(MediaItem.state).where(MediaItem.id == item_id)).scalar_one()
    if state != ItemState.QUARANTINED:
        return
    reviewer = _person(rng.choice([Role.REVIEWER, Role.REVIEWER, Role.COMPLIANCE_LEAD]))
    items.start_review(app.uow(), actor=reviewer, item_id=item_id)
    if family == "genuine":
        items.request_release(app.uow(), actor=reviewer, item_id=item_id, reason_code="false_positive",
                              note="the customer confirmed the photo; the model's score was borderline")
    else:
        items.confirm_synthetic(app.uow(), actor=reviewer, item_id=item_id, reason_code=CONFIRM_REASON[family])


def _incident(plan: Plan, app: App, rng: random.Random, declared: datetime, severity: str, now: datetime) -> None:
    """A responder declares an incident over the files confirmed in the days before, and runs it to closure."""
    responder, lead = _person(Role.RESPONDER), _person(Role.COMPLIANCE_LEAD)
    state: dict[str, int] = {}

    def declare() -> None:
        confirmed = _confirmed_between(app, declared - timedelta(days=6), declared)[:3]
        state["id"] = incidents.declare_incident(
            app.uow(), actor=responder, severity=severity, item_ids=confirmed,
            title=rng.choice(["Generated passport photos in onboarding", "Forged proof-of-address documents",
                              "Synthetic selfies in KYC checks", "AI-made ID cards on client records"]),
            summary="Reviewers confirmed synthetic identity documents on customer records; the files are held.")

    plan.at(declared, declare)
    plan.at(declared + timedelta(hours=2), lambda: incidents.add_note(
        app.uow(), actor=lead, incident_id=state["id"], text="Compliance informed; customers' accounts under "
                                                             "enhanced verification while we investigate."))
    for after, status in ((1, IncidentStatus.CONTAINED), (3, IncidentStatus.RESOLVED), (8, IncidentStatus.CLOSED)):
        if declared + timedelta(days=after) < now:
            plan.at(declared + timedelta(days=after, hours=1), lambda status=status: incidents.change_status(
                app.uow(), actor=responder, incident_id=state["id"], status=status))


def _confirmed_between(app: App, since: datetime, until: datetime) -> list[int]:
    with app.db.reader() as s:
        return list(s.execute(select(MediaItem.id).where(
            MediaItem.state == ItemState.CONFIRMED_SYNTHETIC, MediaItem.decided_at >= since,
            MediaItem.decided_at < until).order_by(MediaItem.decided_at.desc())).scalars())
