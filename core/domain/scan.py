"""What a completed scan hands to the services: plain data, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.domain.lifecycle import Risk


@dataclass(frozen=True)
class SignalRecord:
    """One detector's finding. `score` is 0..1, or None where the detector has no score."""

    name: str
    version: str
    score: float | None
    label: str
    evidence: dict[str, Any] = field(default_factory=dict)
    explanation_path: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    risk: Risk
    reasons: tuple[str, ...] = ()
    signals: tuple[SignalRecord, ...] = ()
    sha256: str | None = None
    unscannable_reason: str | None = None

    def __post_init__(self):
        if Risk(self.risk) is Risk.UNSCANNABLE and not self.unscannable_reason:
            raise ValueError("an unscannable outcome needs a reason a reviewer understands")
