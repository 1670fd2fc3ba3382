"""Check a file someone uploads in the dashboard, and optionally keep it as an item.

Both run through the installation's scan policy (core/verification/policy.py): the same sandboxed
engines, detectors, admin overrides and hash banks as the worker and the verification API. The check
records nothing. Registering keeps the file in the media store, registers it (source `upload`) and
scans it through the scanning service, so it takes the same lifecycle as a file from Salesforce."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.adapters.media import TooLarge
from core.adapters.people import authorize_read
from core.commands import items
from core.domain.lifecycle import ItemState
from core.domain.roles import Action, Actor
from core.domain.scan import outcome_report
from core.loops import scanning

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App


def _refuse_oversized(app: App, data: bytes) -> None:
    if len(data) > app.scan_policy.max_file_bytes:
        raise TooLarge(app.scan_policy.max_file_bytes)


def check_file(app: App, *, actor: Actor, data: bytes, file_name: str, declared_type: str | None = None) -> dict:
    """The verdict and evidence for these bytes, as the scan report; nothing is stored."""
    authorize_read(app.db, actor, Action.ITEM_READ)
    _refuse_oversized(app, data)
    with app.scan_policy.engine() as engine:
        outcome = engine.scan_bytes(data, file_name=file_name, declared_type=declared_type)
    return outcome_report(file_name, outcome)


def register_upload(app: App, *, actor: Actor, data: bytes, file_name: str,
                    declared_type: str | None = None) -> tuple[int, ItemState | None]:
    """Store, register and scan an uploaded file. The same bytes uploaded twice are one item."""
    authorize_read(app.db, actor, Action.ITEM_REGISTER)  # before storing; register_item checks again
    _refuse_oversized(app, data)
    stored = app.media.put(data)
    item_id = items.register_item(app.uow(), actor=actor, source="upload", external_id=stored.sha256,
                                  file_name=file_name, declared_type=declared_type, size_bytes=stored.size,
                                  sha256=stored.sha256, storage_path=str(stored.path), uploaded_by=actor.id,
                                  provenance={"uploaded_in": "dashboard", "uploaded_by": actor.id})
    return item_id, scanning.scan_item(app, item_id, owner=f"upload:{actor.id}")
