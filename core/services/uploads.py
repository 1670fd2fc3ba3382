"""Check a file someone uploads in the dashboard, and optionally keep it as an item.

The check runs the same sandboxed engine as the worker, against the hash banks in the database,
and records nothing. Registering stores the file, registers it (source `upload`) and scans it
through the scanning service, so it takes the same lifecycle as a file from Salesforce."""
from __future__ import annotations

from core.bootstrap import App
from core.domain.lifecycle import ItemState
from core.domain.roles import Action, Actor, require
from core.domain.scan import outcome_report
from core.media import store_upload
from core.services import items, scanning
from core.verification.config import EngineConfig
from core.verification.engine import Engine
from core.verification.hashbank import DatabaseHashBank
from core.verification.hashing import sha256_bytes

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _engine(app: App) -> Engine:
    return Engine(EngineConfig(), DatabaseHashBank(app.db))


def check_file(app: App, *, actor: Actor, data: bytes, file_name: str, declared_type: str | None = None) -> dict:
    """The verdict and evidence for these bytes, as the scan report; nothing is stored."""
    require(actor, Action.ITEM_READ)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is larger than the {MAX_UPLOAD_BYTES // 2**20} MB limit")
    with _engine(app) as engine:
        outcome = engine.scan_bytes(data, file_name=file_name, declared_type=declared_type)
    return outcome_report(file_name, outcome)


def register_upload(app: App, *, actor: Actor, data: bytes, file_name: str,
                    declared_type: str | None = None) -> tuple[int, ItemState | None]:
    """Store, register and scan an uploaded file. The same bytes uploaded twice are one item."""
    require(actor, Action.ITEM_REGISTER)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is larger than the {MAX_UPLOAD_BYTES // 2**20} MB limit")
    sha256 = sha256_bytes(data)
    path = store_upload(app.media_dir, data, sha256)
    item_id = items.register_item(app.uow(), actor=actor, source="upload", external_id=sha256,
                                  file_name=file_name, declared_type=declared_type, size_bytes=len(data),
                                  sha256=sha256, storage_path=str(path), uploaded_by=actor.id,
                                  provenance={"uploaded_in": "dashboard", "uploaded_by": actor.id})
    with _engine(app) as engine:
        state = scanning.scan_item(app, engine, item_id, owner=f"upload:{actor.id}")
    return item_id, state
