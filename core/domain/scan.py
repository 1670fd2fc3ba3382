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

    def __post_init__(self) -> None:
        if Risk(self.risk) is Risk.UNSCANNABLE and not self.unscannable_reason:
            raise ValueError("an unscannable outcome needs a reason a reviewer understands")


def outcome_report(path: str, outcome: ScanOutcome) -> dict[str, Any]:
    """The verdict as `python -m core scan --json` and the verification API print it."""
    report = {"path": path, "sha256": outcome.sha256, "risk": Risk(outcome.risk).value,
              "reasons": list(outcome.reasons),
              "signals": [{"name": s.name, "version": s.version, "score": s.score, "label": s.label,
                           "evidence": s.evidence} for s in outcome.signals]}
    if outcome.unscannable_reason:
        report["unscannable_reason"] = outcome.unscannable_reason
    return report
