"""Scanning registered items: claim them under a lease, run the engine, record the verdict.

Whatever goes wrong with a file, the item ends with a verdict (unscannable, with a reason): a
file is never left unscanned because it was odd, and never released because it could not be read.
A worker that dies mid-scan loses its lease; another takes the item over when it expires."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.commands import items
from core.domain.lifecycle import ItemState, Risk
from core.domain.roles import Actor
from core.domain.scan import ScanOutcome
from core.faultpoints import crash_point
from core.models import MediaItem

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App

SCANNER = Actor.system("scanner")
MAX_SCAN_ATTEMPTS = 3  # a file that takes down its scanner this often is quarantined as unscannable


class ScanEngine(Protocol):
    def scan_bytes(self, data: bytes, *, file_name: str, declared_type: str | None = None) -> ScanOutcome: ...


def claim(app: App, *, owner: str, limit: int = 8, lease: timedelta = timedelta(minutes=5),
          item_id: int | None = None) -> list[int]:
    """Take up to `limit` items to scan: new ones, and ones whose scanner's lease ran out."""
    claimed = items.claim_for_scan(app.uow(), actor=SCANNER, owner=owner, limit=limit, lease=lease, item_id=item_id)
    crash_point("after_claim")
    return claimed


def outcome_for(engine: ScanEngine, item: MediaItem, max_bytes: int) -> ScanOutcome:
    if item.scan_attempts > MAX_SCAN_ATTEMPTS:
        return ScanOutcome(risk=Risk.UNSCANNABLE, sha256=item.sha256, unscannable_reason=(
            f"scanning this file failed {item.scan_attempts - 1} times (the scanner stopped each time)"))
    path = Path(item.storage_path) if item.storage_path else None
    if path is None or not path.is_file():
        reason = (item.provenance or {}).get("download")
        reason = f"the file could not be fetched ({reason})" if reason and reason != "complete" \
            else "the file's content is not available to scan"
        return ScanOutcome(risk=Risk.UNSCANNABLE, unscannable_reason=reason, sha256=item.sha256)
    if path.stat().st_size > max_bytes:
        return ScanOutcome(risk=Risk.UNSCANNABLE, sha256=item.sha256,
                           unscannable_reason=f"the file is larger than the {max_bytes:,}-byte limit")
    return engine.scan_bytes(path.read_bytes(), file_name=item.file_name, declared_type=item.declared_type)


def scan_claimed(app: App, engine: ScanEngine, item_id: int, *, owner: str) -> ItemState:
    """Scan an item this owner holds the lease of, and record the verdict (LeaseLost if it no longer does),
    under the installation's scan policy: its size limit and the risks the admin quarantines."""
    with app.db.reader() as s:
        item = s.get(MediaItem, item_id)
    outcome = outcome_for(engine, item, app.scan_policy.max_file_bytes)
    crash_point("before_record")
    state = items.record_scan_result(app.uow(), actor=SCANNER, item_id=item_id, outcome=outcome,
                                     lease_owner=owner, quarantine_risks=app.scan_policy.rules().quarantine_risks)
    crash_point("after_record")
    return state


def scan_item(app: App, item_id: int, *, owner: str = "inline") -> ItemState | None:
    """Claim one item and scan it now with an engine of the policy (the verification API, dashboard
    uploads, tests, benchmarks). None when the claim is lost: another scanner holds the item, or it
    already has its verdict."""
    with app.scan_policy.engine() as engine:  # first: the lease must not run while waiting for one
        if not claim(app, owner=owner, limit=1, item_id=item_id):
            return None
        return scan_claimed(app, engine, item_id, owner=owner)
