"""Crash points for fault tests: `RD_CRASH_POINTS="after_claim:0.02,after_sf_call:0.05"` makes this
process SIGKILL itself at those points with those probabilities. Unset (always, in production),
every call is a no-op."""
from __future__ import annotations

import os
import random
import signal

_POINTS: dict[str, float] = {}
for part in filter(None, os.environ.get("RD_CRASH_POINTS", "").split(",")):
    name, _, chance = part.partition(":")
    _POINTS[name.strip()] = float(chance or 1.0)
_RNG = random.Random(os.getpid())


def crash_point(name: str) -> None:
    if _POINTS and _RNG.random() < _POINTS.get(name, 0.0):
        os.kill(os.getpid(), signal.SIGKILL)
