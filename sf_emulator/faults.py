"""Faults injected on request: expired sessions, 503s, REQUEST_LIMIT_EXCEEDED, slow responses and
dropped connections, targeted by method and path pattern, for the next N calls or with probability p."""
from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass

KINDS = ("unavailable", "request_limit", "expire_session", "delay", "drop")


@dataclass
class FaultRule:
    id: int
    kind: str
    method: str | None = None      # e.g. "PATCH"; None for any
    path: str | None = None        # regular expression searched in the request path
    times: int | None = 1          # how many more calls it hits; None for no limit
    probability: float = 1.0       # chance that a matching call is hit (seeded)
    after: int = 0                 # matching calls to let through before the first hit
    delay_ms: int = 0              # for "delay"
    phase: str = "before"          # "after": the request takes effect, then the response is lost
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method.upper() == method.upper())
                and (self.path is None or re.search(self.path, path) is not None))


class FaultInjector:
    def __init__(self, seed: int = 0):
        self._rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, kind: str, *, method: str | None = None, path: str | None = None, times: int | None = 1,
            probability: float = 1.0, after: int = 0, delay_ms: int = 0, phase: str = "before") -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {KINDS}")
        if phase not in ("before", "after") or (phase == "after" and kind not in ("drop", "unavailable")):
            raise ValueError("phase 'after' applies to 'drop' and 'unavailable' only")
        with self._lock:
            rule = FaultRule(self._next_id, kind, method, path, times, probability, after, delay_ms, phase)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    # the five kinds, by name
    def unavailable(self, times: int | None = 1, **where) -> FaultRule:
        return self.add("unavailable", times=times, **where)

    def request_limit_exceeded(self, times: int | None = 1, **where) -> FaultRule:
        return self.add("request_limit", times=times, **where)

    def expire_session(self, times: int | None = 1, **where) -> FaultRule:
        return self.add("expire_session", times=times, **where)

    def slow(self, delay_ms: int, times: int | None = 1, **where) -> FaultRule:
        return self.add("delay", delay_ms=delay_ms, times=times, **where)

    def drop_connection(self, times: int | None = 1, **where) -> FaultRule:
        return self.add("drop", times=times, **where)

    def remove(self, rule_id: int) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule_id]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def rules(self) -> list[dict]:
        with self._lock:
            return [asdict(r) for r in self._rules]

    def pick(self, method: str, path: str) -> list[FaultRule]:
        """The rules that hit this call (every matching delay, then at most one other fault)."""
        hits: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.times == 0 or not rule.matches(method, path):
                    continue
                if rule.kind != "delay" and any(h.kind != "delay" for h in hits):
                    continue
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.times = None if rule.times is None else rule.times - 1
                rule.fired += 1
                hits.append(rule)
        return hits
