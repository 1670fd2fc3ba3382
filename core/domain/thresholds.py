"""The operating thresholds an admin sets in the dashboard (kept in the settings table, audited):
which risks are quarantined, the review SLA and the backlog limit. Plain values, checked here."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.domain.lifecycle import Risk

THRESHOLDS_KEY = "thresholds"
DETECTORS_KEY = "detectors"  # {detector name: {"enabled": bool, "threshold": float}}
QUARANTINABLE = (Risk.HIGH, Risk.MEDIUM, Risk.LOW)  # unscannable always quarantines (fail closed)


@dataclass(frozen=True)
class Thresholds:
    quarantine_risks: tuple[str, ...] = (Risk.HIGH.value, Risk.MEDIUM.value)
    review_sla_hours: float = 4.0
    # The one backlog limit: the oldest unverified file older than this turns the Live page's banner on and,
    # with pre-emptive quarantine enabled, holds new files on high-risk records until they are verified.
    backlog_limit_minutes: float = 5.0

    def __post_init__(self) -> None:
        unknown = set(self.quarantine_risks) - {r.value for r in QUARANTINABLE}
        if unknown:
            raise ValueError(f"not a quarantinable risk: {', '.join(sorted(unknown))}")
        if Risk.HIGH.value not in self.quarantine_risks:
            raise ValueError("high-risk files are always quarantined")
        if not 0 < self.review_sla_hours <= 24 * 14:
            raise ValueError("the review SLA must be between a few minutes and 14 days")
        if not 0 < self.backlog_limit_minutes <= 24 * 60:
            raise ValueError("the backlog limit must be between 1 minute and 24 hours")

    @classmethod
    def from_stored(cls, value: dict[str, Any], defaults: Thresholds) -> Thresholds:
        merged = {**asdict(defaults), **{k: v for k, v in value.items() if k in asdict(defaults)}}
        merged["quarantine_risks"] = tuple(merged["quarantine_risks"])
        return cls(**merged)
