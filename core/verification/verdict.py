"""How signals become a risk tier. Every tier comes with reasons in plain words; there is no single
opaque probability. The rules, in order:

0. Intake failed (refused, damaged, hostile, or the sandbox gave up)  -> `unscannable`, with the
   reason. Hash-bank matches on the file's SHA-256 are still listed.
1. `high` when any of:
   a. the SHA-256 equals a known-synthetic bank entry;
   b. a perceptual hash is within `phash_max_distance` bits of a known-synthetic entry;
   c. a C2PA manifest declares an AI digitalSourceType (trainedAlgorithmicMedia,
      compositeWithTrainedAlgorithmicMedia, algorithmicMedia); its validation state and failure
      codes are stated, since a declaration of AI is evidence whoever signed it;
   d. generator metadata: generation parameters (prompt, workflow, sampler settings) or an AI
      DigitalSourceType in XMP / IPTC;
   e. a scoring detector's score reaches its `high` threshold.
2. `medium` when none of 1 holds and any of:
   a. a C2PA manifest is present but Invalid (content changed after signing, or forged);
   b. metadata names a known image generator as the software, without parameters;
   c. a scoring detector's score reaches its `medium` threshold;
   d. a detector failed: we fail closed rather than call an unchecked file low.
3. `low` otherwise. A known-genuine bank match or a manifest without AI sources is stated as a
   reason; it never lowers a `high` or `medium` found by another rule. Absence of metadata or of
   a manifest proves nothing and is said as "no evidence found", not as "genuine".
"""
from __future__ import annotations

from collections.abc import Iterable

from core.domain.lifecycle import Risk
from core.domain.scan import SignalRecord
from core.verification.config import EngineConfig


def decide(signals: Iterable[SignalRecord], config: EngineConfig,
           unscannable_reason: str | None = None) -> tuple[Risk, tuple[str, ...]]:
    tiers: dict[str, list[str]] = {"high": [], "medium": [], "low": [], "none": []}
    for s in signals:
        tier, reason = _RULES.get(s.name, _scored)(s, config)
        if tier:
            tiers[tier].append(reason)
    high, medium, low = tiers["high"], tiers["medium"], tiers["low"]
    if unscannable_reason:
        return Risk.UNSCANNABLE, tuple([f"unscannable: {unscannable_reason}", *high])
    if high:
        return Risk.HIGH, tuple(high + medium + low)
    if medium:
        return Risk.MEDIUM, tuple(medium + low)
    checked = f" (checked: {', '.join(tiers['none'])})" if tiers["none"] else ""
    return Risk.LOW, tuple(low + [f"no evidence of synthesis found{checked}"])


def _hash(s: SignalRecord, config: EngineConfig):
    matches = s.evidence.get("matches", [])
    synthetic = [m for m in matches if m["bank"] == "known_synthetic"]
    genuine = [m for m in matches if m["bank"] == "known_genuine"]
    if synthetic:
        return "high", "; ".join(_describe(m) for m in synthetic[:3])
    if genuine:
        return "low", "; ".join(_describe(m) for m in genuine[:3])
    return "none", "no hash-bank match"


def _describe(m: dict) -> str:
    what = "known synthetic" if m["bank"] == "known_synthetic" else "known genuine"
    src = f" ({m['source']})" if m.get("source") else ""
    if m["kind"] == "exact":
        return f"exact match of {what} entry {m['entry_id']}{src}"
    return f"near-duplicate of {what} entry {m['entry_id']}{src}, distance {m['distance']}"


def _c2pa(s: SignalRecord, config: EngineConfig):
    ev = s.evidence
    state = ev.get("state") or "unknown"
    codes = ", ".join(ev.get("failure_codes") or [])
    sig = f"signature {state}" + (f" ({codes})" if codes else "")
    if s.label == "ai_declared":
        ai = [t for t in ev.get("digital_source_types", [])
              if t in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")]
        return "high", f"C2PA manifest declares {', '.join(ai)}; {sig}"
    if s.label == "invalid":
        return "medium", f"C2PA manifest fails validation: {ev.get('error') or sig}"
    if s.label == "no_ai_declared":
        return "low", f"C2PA manifest declares no AI source; {sig}"
    if s.label == "error":
        return "medium", f"C2PA check failed: {ev.get('error', 'unknown error')}"
    return "none", "no C2PA manifest"


def _metadata(s: SignalRecord, config: EngineConfig):
    ev = s.evidence
    if s.label == "generator_parameters":
        return "high", "generator metadata: " + "; ".join(ev.get("generator_fields", {}).values())
    if s.label == "ai_source_declared":
        return "high", ("file metadata declares digital source type "
                        + ", ".join(ev.get("digital_source_types", [])))
    if s.label == "generator_software":
        return "medium", "metadata names an image generator: " + "; ".join(ev.get("generator_software", []))
    if s.label == "error":
        return "medium", f"metadata check failed: {ev.get('error', 'unknown error')}"
    return "none", "no generator metadata"


def _scored(s: SignalRecord, config: EngineConfig):
    """Any other detector: its label 'error' fails closed; its score meets its thresholds."""
    if s.label == "error":
        return "medium", f"detector {s.name} failed: {s.evidence.get('error', 'unknown error')}"
    if s.score is None:
        return None, None
    settings = config.detectors.get(s.name)
    thresholds = dict(settings.thresholds) if settings else {}
    for tier in ("high", "medium"):
        if tier in thresholds and s.score >= thresholds[tier]:
            return tier, (f"detector {s.name} {s.version} scores {s.score:.2f} ({s.label}), at or above "
                          f"its {tier} threshold {thresholds[tier]:.2f}")
    return "none", f"detector {s.name} ({s.score:.2f})"


_RULES = {"hash": _hash, "c2pa": _c2pa, "generator_metadata": _metadata}
