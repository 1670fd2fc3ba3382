"""Where the org's records live: in memory, mirrored to one SQLite file when a path is given.

Writes happen inside `transaction()`; leaving it by an exception restores every record it touched,
which is how sObject Collections honour allOrNone.
"""
from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_MISSING = object()


class RecordStore:
    def __init__(self, path: str | None = None):
        self._records: dict[str, dict] = {}
        self._types: dict[str, dict[str, dict]] = {}  # sobject name -> {id: record}, in creation order
        self._blobs: dict[str, bytes] = {}
        self._meta: dict[str, object] = {}
        self._frames: list[dict[tuple[str, str], object]] = []  # undo logs, outermost first
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False) if path else None
        if self._db:
            self._open_db()

    # reads
    def get(self, record_id: str) -> dict | None:
        return self._records.get(record_id)

    def of_type(self, sobject: str) -> list[dict]:
        return list(self._types.get(sobject, {}).values())

    def blob(self, key: str) -> bytes | None:
        return self._blobs.get(key)

    def meta(self, key: str, default: object = None) -> object:
        return self._meta.get(key, default)

    # writes
    def put(self, sobject: str, record: dict) -> None:
        with self.transaction():
            self._remember("record", record["Id"], self._records.get(record["Id"], _MISSING))
            self._records[record["Id"]] = record
            self._types.setdefault(sobject, {})[record["Id"]] = record

    def put_blob(self, key: str, data: bytes) -> None:
        with self.transaction():
            self._remember("blob", key, self._blobs.get(key, _MISSING))
            self._blobs[key] = data

    def set_meta(self, key: str, value: object) -> None:
        with self.transaction():
            self._remember("meta", key, self._meta.get(key, _MISSING))
            self._meta[key] = value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of writes; nested ones act as savepoints, and only the outermost one persists."""
        with self.lock:
            self._frames.append({})
            try:
                yield
            except BaseException:
                self._rollback(self._frames.pop())
                raise
            frame = self._frames.pop()
            if self._frames:
                for key, before in frame.items():
                    self._frames[-1].setdefault(key, before)
            else:
                self._commit(frame)

    def _remember(self, kind: str, key: str, before: object) -> None:
        if not self._frames:
            raise RuntimeError("writes happen inside transaction()")
        for frame in self._frames:
            if (kind, key) not in frame:
                frame[(kind, key)] = copy.deepcopy(before) if kind == "record" and before is not _MISSING else before

    def _rollback(self, frame: dict) -> None:
        for (kind, key), before in frame.items():
            if kind == "record":
                self._restore_record(key, before)
            elif before is _MISSING:
                (self._blobs if kind == "blob" else self._meta).pop(key, None)
            else:
                (self._blobs if kind == "blob" else self._meta)[key] = before

    def _restore_record(self, record_id: str, before: object) -> None:
        current = self._records.pop(record_id, None)
        if current is not None:
            self._types.get(current["attributes"]["type"], {}).pop(record_id, None)
        if before is not _MISSING:
            self._records[record_id] = before
            self._types.setdefault(before["attributes"]["type"], {})[record_id] = before

    def _commit(self, frame: dict) -> None:
        if self._db and frame:
            with self._db:
                for kind, key in frame:
                    self._persist(kind, key)

    # SQLite mirror: one JSON row per record, raw bytes per blob
    def _open_db(self) -> None:
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, seq INTEGER, body TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for (body,) in self._db.execute("SELECT body FROM records ORDER BY seq"):
            record = json.loads(body)
            self._records[record["Id"]] = record
            self._types.setdefault(record["attributes"]["type"], {})[record["Id"]] = record
        self._blobs = dict(self._db.execute("SELECT key, data FROM blobs"))
        self._meta = {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def _persist(self, kind: str, key: str) -> None:
        if kind == "record":
            record = self._records.get(key)
            if record is None:
                self._db.execute("DELETE FROM records WHERE id = ?", (key,))
            else:
                self._db.execute(
                    "INSERT INTO records (id, seq, body) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records), ?)"
                    " ON CONFLICT(id) DO UPDATE SET body = excluded.body", (key, json.dumps(record)))
        elif kind == "blob":
            self._db.execute("INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)", (key, self._blobs[key]))
        else:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(self._meta[key])))

    @property
    def is_empty(self) -> bool:
        return not self._records

    def close(self) -> None:
        if self._db:
            self._db.close()
            self._db = None
