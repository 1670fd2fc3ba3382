"""What a completed scan hands to the services: plain data, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.domain.lifecycle import Risk

# What each detector label means, in the words a reviewer reads before the detector's numbers.
FINDING_LABELS: dict[str, str] = {
    "known_synthetic_exact": "An exact copy of a file already confirmed synthetic",
    "known_synthetic_near": "A near-duplicate of a file already confirmed synthetic",
    "known_genuine": "Matches a file known to be genuine",
    "no_match": "Not in any hash bank",
    "ai_declared": "Its C2PA provenance declares AI generation",
    "invalid": "Its C2PA provenance fails validation (changed after signing, or forged)",
    "no_ai_declared": "Its C2PA provenance declares no AI source",
    "no_manifest": "No C2PA provenance",
    "generator_parameters": "Its metadata carries an image generator's settings (prompt, sampler)",
    "ai_source_declared": "Its metadata declares an AI source",
    "generator_software": "Its metadata names an image generator",
    "none": "No generator metadata",
    "synthetic": "A detection model found traces of generation",
    "no_trace_found": "A detection model found no trace of generation",
    "genuine": "A detection model judged it genuine",
    "not_applicable": "Not applicable to this file",
    "error": "The check failed (so the file is held)",
}


def finding(label: str) -> str:
    """A detector label in words; an unknown label is shown as it is, never hidden."""
    return FINDING_LABELS.get(label, label.replace("_", " "))


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
