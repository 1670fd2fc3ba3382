"""Seeding helpers for the dashboard tests: items that went through the real services."""
from __future__ import annotations

import hashlib
from pathlib import Path

from core.bootstrap import App
from core.commands import items
from core.domain.roles import Actor
from core.domain.scan import ScanOutcome, SignalRecord
from core.verification import corpus

SYSTEM = Actor.system()
ORG = "https://demo-org.example.com"


def photo(tmp: Path, n: int) -> tuple[Path, str]:
    data = corpus.genuine_photo(n, size=(160, 120))
    path = tmp / f"photo-{n}.jpg"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def signals(risk: str, matches: list[dict] | None = None) -> tuple[SignalRecord, ...]:
    score = {"high": 0.97, "medium": 0.7}.get(risk, 0.1)
    return (
        SignalRecord("hash", "sha256+phash1", None, "known_synthetic_near" if matches else "no_match",
                     {"phash": "8f0f0f0f0f0f0f0f", "matches": matches or []}),
        SignalRecord("c2pa", "1", None, "no_manifest", {}),
        SignalRecord("generator_metadata", "1", None,
                     "generator_parameters" if risk == "high" else "none",
                     {"generator_fields": {"parameters": "a portrait, Steps: 20"}} if risk == "high" else {}),
        SignalRecord("artifact_cnn", "1.0.0", score, "synthetic" if score > 0.5 else "genuine", {"tiles": 4}),
    )


def flagged_item(app: App, n: int, *, risk: str = "high", file_name: str | None = None,
                 source_object: str = "Account", records: list[dict] | None = None, provenance: dict | None = None,
                 matches: list[dict] | None = None, store: bool = True) -> int:
    """An item scanned to `risk` (quarantined unless low), with its file stored when `store`."""
    path, sha = photo(Path(app.settings.var_dir), n) if store else (None, None)
    item_id = items.register_item(
        app.uow(), actor=SYSTEM, source="salesforce", external_id=f"068{n:015d}", file_name=file_name or f"id_{n}.jpg",
        declared_type="image/jpeg", sha256=sha, storage_path=str(path) if path else None, org_id=ORG,
        source_object=source_object, uploaded_by="kyc.morgan",
        linked_records=records if records is not None else [
            {"link_id": f"06A{n:015d}", "entity_id": f"001{n:015d}", "entity_type": source_object,
             "entity_name": f"Customer {n}"}],
        provenance=provenance if provenance is not None else {"org": ORG, "title": f"id_{n}"})
    items.begin_scan(app.uow(), actor=SYSTEM, item_id=item_id)
    reasons = (f"test verdict {risk}",) if risk != "unscannable" else ("unscannable: broken",)
    items.record_scan_result(app.uow(), actor=SYSTEM, item_id=item_id, outcome=ScanOutcome(
        risk=risk, reasons=reasons, signals=signals(risk, matches), sha256=sha,
        unscannable_reason="broken" if risk == "unscannable" else None))
    return item_id
