"""Every request the emulator served, so tests can count API calls and prove an effect happened once."""
from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field


@dataclass
class LoggedRequest:
    seq: int
    time: float
    method: str
    path: str
    query: str
    status: int | None = None
    api_call: bool = False          # counted against the org's API limit
    user_id: str | None = None      # the session's user
    fault: str | None = None        # the injected fault that shaped the response
    effects: list[dict] = field(default_factory=list)  # {"op": create|update|delete, "type", "id"}
    duration_ms: float = 0.0


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._seq = 0

    def begin(self, entry_time: float, method: str, path: str, query: str) -> LoggedRequest:
        with self._lock:
            self._seq += 1
            entry = LoggedRequest(self._seq, entry_time, method, path, query)
            self._entries.append(entry)
            return entry

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def api_calls(self) -> list[LoggedRequest]:
        return [e for e in self.entries() if e.api_call]

    def count(self, method: str | None = None, path: str | None = None, *, api_only: bool = True) -> int:
        """Requests matching a method and a path regular expression (searched)."""
        return sum(1 for e in self.entries() if (not api_only or e.api_call)
                   and (method is None or e.method == method.upper())
                   and (path is None or re.search(path, e.path)))

    def effects(self, op: str | None = None, record_id: str | None = None) -> list[dict]:
        """Writes applied to the org, in order, each with the seq of the request that made it."""
        return [{**effect, "seq": e.seq} for e in self.entries() for effect in e.effects
                if (op is None or effect["op"] == op) and (record_id is None or effect["id"] == record_id)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def as_json(self, since: int = 0) -> list[dict]:
        return [asdict(e) for e in self.entries() if e.seq > since]
