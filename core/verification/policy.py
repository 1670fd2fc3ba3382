"""One scan pipeline: the rules every scan in this installation runs under, and the engines that
apply them. The composition root (core/bootstrap.py) builds one policy at start-up; the worker, the
verification API, the dashboard's Check a file and the command line all scan through it.

The rules are the engine configuration with the admin's detector overrides, the risks the admin
chose to quarantine, and the hash banks. The size limit is the engine's own
(`EngineConfig.max_file_bytes`); every other limit derives from it. The admin's settings are
re-read at most every `ttl_s`, so a change takes effect without a restart: an engine built from an
older configuration is closed (its sandboxed child with it) when it comes back, or when it would be
handed out again, and a new one is built."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.adapters.db import Database
from core.domain.lifecycle import Risk
from core.settings import Settings
from core.verification.config import EngineConfig

if TYPE_CHECKING:
    from core.verification.engine import Engine
    from core.verification.hashbank import HashBank

SETTINGS_TTL_S = 30.0


@dataclass(frozen=True)
class ScanRules:
    config: EngineConfig
    quarantine_risks: frozenset[Risk]
    bank: HashBank = field(compare=False)


class ScanPolicy:
    def __init__(self, db: Database, settings: Settings, *, ttl_s: float = SETTINGS_TTL_S,
                 max_engines: int | None = None):
        self.db, self.settings, self.ttl_s = db, settings, ttl_s
        self.max_file_bytes = EngineConfig().max_file_bytes
        self._rules: ScanRules | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()
        self._idle: list[Engine] = []
        self._slots = threading.BoundedSemaphore(max_engines or os.cpu_count() or 1)

    def rules(self) -> ScanRules:
        """The rules in force, re-read from the admin's settings when older than `ttl_s`."""
        with self._lock:
            if self._rules is None or time.monotonic() - self._read_at > self.ttl_s:
                self._rules, self._read_at = self._read(), time.monotonic()
            return self._rules

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """An engine for this thread alone, built from the rules in force (at most `max_engines` at
        once: each runs its own sandboxed child, so this bounds the memory scanning takes)."""
        rules = self.rules()
        with self._slots:
            engine = self._take(rules)
            try:
                yield engine
            finally:
                self._give_back(engine)

    def close(self) -> None:
        """Stop the idle engines' children (at shutdown; engines in use stop when given back)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for engine in idle:
            engine.close()

    def _take(self, rules: ScanRules) -> Engine:
        from core.verification.engine import Engine

        with self._lock:
            stale = [e for e in self._idle if e.config != rules.config]
            fresh = [e for e in self._idle if e.config == rules.config]
            engine = fresh.pop() if fresh else None
            self._idle = fresh
        for old in stale:  # the admin changed the configuration since these were built
            old.close()
        if engine is None:
            return Engine(rules.config, rules.bank)
        engine.bank = rules.bank
        return engine

    def _give_back(self, engine: Engine) -> None:
        with self._lock:
            current = self._rules is not None and engine.config == self._rules.config
            if current:
                self._idle.append(engine)
        if not current:
            engine.close()

    def engine_config(self, explanations_dir: Path | None = None) -> EngineConfig:
        """The configuration with the admin's detector overrides, read now. Explanation images go to
        var/explanations unless `explanations_dir` says otherwise (the command line's choice)."""
        from core.adapters.app_settings import detector_overrides
        from core.verification.setup import engine_config

        return engine_config(detector_overrides(self.db),
                             explanations_dir=explanations_dir or self.settings.var_dir / "explanations",
                             models_folder=self.settings.models_dir)

    def _read(self) -> ScanRules:
        from core.adapters.app_settings import thresholds
        from core.verification.hashbank import DatabaseHashBank

        chosen = thresholds(self.db, self.settings).quarantine_risks
        return ScanRules(self.engine_config(), frozenset(Risk(r) for r in chosen), DatabaseHashBank(self.db))
