"""Commands that change the hash banks. Each checks permission, writes its rows and its audit
event in one unit of work. Reading for matching is core.verification.hashbank.DatabaseHashBank."""
from __future__ import annotations

from typing import TextIO

from sqlalchemy import select

from core.adapters.uow import UnitOfWork
from core.domain.audit_actions import AuditAction
from core.domain.errors import IllegalTransition, NotFound
from core.domain.lifecycle import ItemState
from core.domain.roles import Action, Actor
from core.models import HashBankEntry, MediaItem, Signal
from core.verification import hashbank as bank


def _exists(uow: UnitOfWork, entry: bank.BankEntry) -> bool:
    return uow.session.execute(select(HashBankEntry.id).where(
        HashBankEntry.bank == entry.bank, HashBankEntry.sha256.is_(None) if entry.sha256 is None
        else HashBankEntry.sha256 == entry.sha256, HashBankEntry.phash.is_(None) if entry.phash is None
        else HashBankEntry.phash == entry.phash).limit(1)).first() is not None


def _insert(uow: UnitOfWork, actor: Actor, entry: bank.BankEntry, item_id: int | None = None) -> HashBankEntry:
    row = HashBankEntry(bank=entry.bank, sha256=entry.sha256, phash=entry.phash, source=entry.source,
                        note=entry.note, item_id=item_id, added_by=actor.id)
    uow.session.add(row)
    uow.session.flush()
    return row


def add_entry(uow: UnitOfWork, *, actor: Actor, bank_name: str, sha256: str | None = None,
              phash: str | None = None, source: str, note: str = "") -> int | None:
    """Add one entry. Returns its id, or None when the same entry is already in that bank."""
    entry = bank.validate_entry(bank_name, sha256, phash, source, note)
    with uow:
        actor = uow.authorize(actor, Action.HASHBANK_MANAGE)
        if _exists(uow, entry):
            return None
        row = _insert(uow, actor, entry)
        uow.record(actor, AuditAction.HASHBANK_ENTRY_ADDED, "hash_bank_entry", row.id, after={
            "bank": row.bank, "sha256": row.sha256, "phash": row.phash, "source": row.source}, reason=note or None)
        uow.commit()
        return row.id


def import_csv(uow: UnitOfWork, *, actor: Actor, fh: TextIO, file_label: str = "CSV") -> tuple[int, int]:
    """Import a whole CSV (bank, sha256, phash, source, note) or nothing. Returns (added, skipped)."""
    entries = bank.read_csv(fh)
    added = skipped = 0
    with uow:
        actor = uow.authorize(actor, Action.HASHBANK_MANAGE)
        for entry in entries:
            if _exists(uow, entry):
                skipped += 1
                continue
            _insert(uow, actor, entry)
            added += 1
        uow.record(actor, AuditAction.HASHBANK_IMPORTED, "hash_bank", "csv", after={
            "file": file_label, "rows": len(entries), "added": added, "skipped_duplicates": skipped})
        uow.commit()
    return added, skipped


def export_csv(uow: UnitOfWork, *, actor: Actor, fh: TextIO, bank_name: str | None = None) -> int:
    """Write the bank(s) as CSV; the export itself is audited. Returns the number of rows."""
    with uow:
        actor = uow.authorize(actor, Action.HASHBANK_EXPORT)
        query = select(HashBankEntry).order_by(HashBankEntry.id)
        if bank_name:
            query = query.where(HashBankEntry.bank == bank_name)
        rows = uow.session.execute(query).scalars().all()
        count = bank.write_csv((bank.BankEntry(r.id, r.bank, r.sha256, r.phash, r.source, r.note) for r in rows), fh)
        uow.record(actor, AuditAction.HASHBANK_EXPORTED, "hash_bank", bank_name or "all", after={"rows": count})
        uow.commit()
    return count


def bank_confirmed_item(uow: UnitOfWork, *, actor: Actor, item_id: int, decision_id: int | None = None) -> int | None:
    """Inside the confirm service's open unit of work: the confirmed item's SHA-256 and pHash join
    the known-synthetic bank. The pHash is read from the latest hash signal's evidence. Returns the
    new entry id, or None when there was nothing new to add. Does not commit."""
    actor = uow.authorize(actor, Action.ITEM_CONFIRM_SYNTHETIC)
    item = uow.session.get(MediaItem, item_id)
    if item is None:
        raise NotFound(f"media item {item_id} does not exist")
    if item.state != ItemState.CONFIRMED_SYNTHETIC:  # only a recorded decision puts media in this bank
        raise IllegalTransition(f"item {item_id} is {item.state}, not confirmed synthetic: it cannot join "
                                "the known-synthetic bank")
    evidence = uow.session.execute(select(Signal.evidence).where(
        Signal.item_id == item_id, Signal.name == "hash").order_by(Signal.id.desc()).limit(1)).scalar_one_or_none()
    phash = (evidence or {}).get("phash")
    if not item.sha256 and not phash:
        return None
    entry = bank.validate_entry("known_synthetic", item.sha256, phash, f"confirmed item {item_id}",
                                f"confirmed synthetic by {actor.id}" + (f", decision {decision_id}" if decision_id else ""))
    if _exists(uow, entry):
        return None
    row = _insert(uow, actor, entry, item_id=item_id)
    uow.record(actor, AuditAction.HASHBANK_ENTRY_ADDED, "hash_bank_entry", row.id, after={
        "bank": row.bank, "sha256": row.sha256, "phash": row.phash, "item_id": item_id,
        "decision_id": decision_id})
    return row.id
