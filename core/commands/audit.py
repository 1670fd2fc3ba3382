"""Audit read functions: list, verify, export. Reading needs the audit permissions."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from core.adapters import audit_store, people
from core.adapters.db import Database
from core.adapters.uow import UnitOfWork
from core.domain import audit_chain
from core.domain.audit_actions import AuditAction
from core.domain.roles import Action, Actor

EXPORT_FORMAT = "response-desk-audit/1"


def verify_chain(db: Database, *, actor: Actor, key: bytes | None) -> audit_chain.ChainReport:
    people.authorize_read(db, actor, Action.AUDIT_VERIFY)
    with db.snapshot() as session:
        return audit_store.verify(session, key)


def export_jsonl(uow: UnitOfWork, *, actor: Actor, out: IO[str]) -> audit_chain.ChainReport:
    """Write a header line, one line per event, and a trailer with the head; then record the export
    (who, how many events, which head) as the next event, so the trail shows who took a copy.

    The export verifies on its own (hashes and links; seals too for whoever holds the key)."""
    people.authorize_read(uow.db, actor, Action.AUDIT_EXPORT)
    with uow.db.snapshot() as session:
        anchor = audit_store.read_anchor(session)
        out.write(json.dumps({"format": EXPORT_FORMAT, "hash": "sha256 over canonical JSON of "
                              + ",".join(audit_chain.HASHED_FIELDS), "genesis": audit_chain.GENESIS_HASH,
                              "seal": "HMAC-SHA256(audit key, hash)"}) + "\n")
        count, head = 0, audit_chain.GENESIS_HASH
        for record in audit_store.iter_events(session):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count, head = record["seq"], record["hash"]
        out.write(json.dumps({"end": True, "count": count, "head_hash": head, "anchor": anchor}) + "\n")
    with uow:
        actor = uow.authorize(actor, Action.AUDIT_EXPORT)
        uow.record(actor, AuditAction.AUDIT_EXPORTED, "audit_trail", "jsonl", after={"count": count, "head_hash": head})
        uow.commit()
    return audit_chain.ChainReport(True, count, head)


def read_export(lines: Iterable[str]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    header, events, trailer = None, [], None
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        if header is None:
            if record.get("format") != EXPORT_FORMAT:
                raise ValueError("not a Response Desk audit export")
            header = record
        elif record.get("end"):
            trailer = record
        else:
            events.append(record)
    if header is None:
        raise ValueError("empty file")
    return events, trailer


def verify_export(path: Path, key: bytes | None = None) -> audit_chain.ChainReport:
    """Check an export on its own. Without a trailer the tail cannot be vouched for."""
    with path.open(encoding="utf-8") as fh:
        events, trailer = read_export(fh)
    anchor = None
    if trailer is None:
        return audit_chain.ChainReport(False, len(events), "", len(events) + 1,
                                       "the export has no trailer: it was cut short", key is not None)
    anchor = trailer.get("anchor") or {"seq": trailer["count"], "head_hash": trailer["head_hash"]}
    if key is None:
        anchor = {"seq": trailer["count"], "head_hash": trailer["head_hash"]}
    return audit_chain.verify_chain(events, key=key, anchor=anchor)
