"""Hash banks: known-synthetic and known-genuine files, matched by exact SHA-256 and by pHash
Hamming distance. `HashBank` is the interface; `MemoryHashBank` keeps the perceptual hashes in a
numpy array (one vectorised XOR + popcount per lookup); `DatabaseHashBank` fills it from the
`hash_bank_entry` table and reloads on `refresh()`. Writes go through core/commands/hashbank.py.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

import numpy as np
from sqlalchemy import select

from core.adapters.csv_safe import restore_cell, write_rows
from core.domain.hashes import is_phash, is_sha256

BANKS = ("known_synthetic", "known_genuine")
CSV_COLUMNS = ("bank", "sha256", "phash", "source", "note")


@dataclass(frozen=True)
class BankEntry:
    id: int | None
    bank: str
    sha256: str | None
    phash: str | None
    source: str
    note: str = ""


@dataclass(frozen=True)
class BankMatch:
    entry_id: int | None
    bank: str
    kind: str               # exact | perceptual
    distance: int           # 0 for exact
    source: str
    note: str = ""


class HashBank(Protocol):
    def match(self, sha256: str | None, phashes: Sequence[str], max_distance: int) -> list[BankMatch]:
        """Entries equal by SHA-256, or within max_distance bits of any of the perceptual hashes."""
        ...


class MemoryHashBank:
    def __init__(self, entries: Iterable[BankEntry] = ()):
        self._load(list(entries))

    def _load(self, entries: list[BankEntry]) -> None:
        self.entries = entries
        self._by_sha: dict[str, list[BankEntry]] = {}
        for e in entries:
            if e.sha256:
                self._by_sha.setdefault(e.sha256.lower(), []).append(e)
        with_phash = [e for e in entries if e.phash]
        self._phash_entries = with_phash
        self._phashes = np.array([int(e.phash, 16) for e in with_phash], dtype=np.uint64)

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, sha256: str | None, phashes: Sequence[str], max_distance: int) -> list[BankMatch]:
        found: dict[tuple, BankMatch] = {}
        for e in self._by_sha.get((sha256 or "").lower(), []):
            found[(e.id, e.bank)] = BankMatch(e.id, e.bank, "exact", 0, e.source, e.note)
        if len(self._phashes):
            for ph in phashes:
                dist = np.bitwise_count(self._phashes ^ np.uint64(int(ph, 16)))
                for i in np.flatnonzero(dist <= max_distance):
                    e, d = self._phash_entries[i], int(dist[i])
                    key = (e.id, e.bank)
                    if key not in found or found[key].distance > d:
                        found[key] = BankMatch(e.id, e.bank, "perceptual", d, e.source, e.note)
        return sorted(found.values(), key=lambda m: (m.distance, m.entry_id or 0))


class DatabaseHashBank(MemoryHashBank):
    """The bank held in the database, cached in memory; call refresh() to see new entries."""

    def __init__(self, db):
        self.db = db
        super().__init__(())
        self.refresh()

    def refresh(self) -> DatabaseHashBank:
        self._load(load_entries(self.db))
        return self


def load_entries(db) -> list[BankEntry]:
    from core.models import HashBankEntry as Row

    with db.reader() as session:
        rows = session.execute(select(Row.id, Row.bank, Row.sha256, Row.phash, Row.source, Row.note)
                               .order_by(Row.id)).all()
    return [BankEntry(*row) for row in rows]


def write_csv(entries: Iterable[BankEntry], fh: TextIO) -> int:
    return write_rows(fh, CSV_COLUMNS, ([e.bank, e.sha256 or "", e.phash or "", e.source, e.note] for e in entries))


def read_csv(fh: TextIO) -> list[BankEntry]:
    """Parse and validate a whole CSV; any bad row refuses the file (line numbers in the error).
    Cells `write_csv` marked as text (a note starting with '-') read back as they were."""
    reader = csv.DictReader(fh)
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"CSV lacks column(s): {', '.join(missing)}")
    entries, problems = [], []
    for line, row in enumerate(reader, start=2):
        try:
            entries.append(validate_entry(*(restore_cell(row[c] or "") for c in CSV_COLUMNS)))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise ValueError("CSV refused; " + "; ".join(problems[:20]))
    return entries


def validate_entry(bank: str, sha256: str | None, phash: str | None, source: str, note: str = "") -> BankEntry:
    bank, source = (bank or "").strip(), (source or "").strip()
    sha256 = (sha256 or "").strip().lower() or None
    phash = (phash or "").strip().lower() or None
    if bank not in BANKS:
        raise ValueError(f"bank must be one of {', '.join(BANKS)}, not {bank!r}")
    if not sha256 and not phash:
        raise ValueError("an entry needs a sha256 or a phash")
    if sha256 and not is_sha256(sha256):
        raise ValueError(f"sha256 must be 64 hex digits, not {sha256[:70]!r}")
    if phash and not is_phash(phash):
        raise ValueError(f"phash must be 16 hex digits, not {phash[:30]!r}")
    if not source:
        raise ValueError("an entry needs a source")
    return BankEntry(None, bank, sha256, phash, source[:200], note or "")
