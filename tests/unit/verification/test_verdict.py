"""The verdict rules of core/verification/verdict.py, signal by signal."""
from __future__ import annotations

from core.domain.lifecycle import Risk
from core.domain.scan import SignalRecord as S
from core.verification.config import DetectorSettings, EngineConfig
from core.verification.verdict import decide

CONFIG = EngineConfig(detectors={"c2pa": DetectorSettings(), "generator_metadata": DetectorSettings(),
                                 "model_x": DetectorSettings(thresholds={"high": 0.9, "medium": 0.6})})
NO_MATCH = S("hash", "1", None, "no_match", {"matches": []})


def _match(bank, kind="perceptual", distance=4, entry=123):
    return S("hash", "1", None, "x", {"matches": [{"entry_id": entry, "bank": bank, "kind": kind,
                                                   "distance": distance, "source": ""}]})


def test_near_duplicate_of_known_synthetic_is_high_in_plain_words():
    risk, reasons = decide([_match("known_synthetic")], CONFIG)
    assert risk is Risk.HIGH and reasons == ("near-duplicate of known synthetic entry 123, distance 4",)


def test_c2pa_ai_declaration_states_source_and_signature():
    signal = S("c2pa", "1", None, "ai_declared", {"state": "Trusted", "failure_codes": [],
                                                  "digital_source_types": ["trainedAlgorithmicMedia"]})
    risk, reasons = decide([NO_MATCH, signal], CONFIG)
    assert risk is Risk.HIGH
    assert reasons[0] == "C2PA manifest declares trainedAlgorithmicMedia; signature Trusted"


def test_scored_detector_maps_to_its_thresholds():
    assert decide([NO_MATCH, S("model_x", "2", 0.95, "synthetic")], CONFIG)[0] is Risk.HIGH
    assert decide([NO_MATCH, S("model_x", "2", 0.7, "synthetic")], CONFIG)[0] is Risk.MEDIUM
    assert decide([NO_MATCH, S("model_x", "2", 0.2, "real")], CONFIG)[0] is Risk.LOW


def test_a_failed_detector_fails_closed_to_medium():
    risk, reasons = decide([NO_MATCH, S("model_x", "2", None, "error", {"error": "boom"})], CONFIG)
    assert risk is Risk.MEDIUM and "model_x failed: boom" in reasons[0]


def test_known_genuine_never_lowers_a_high_finding():
    meta = S("generator_metadata", "1", None, "generator_parameters", {"generator_fields": {"prompt": "ComfyUI"}})
    risk, reasons = decide([_match("known_genuine", "exact", 0), meta], CONFIG)
    assert risk is Risk.HIGH and any("known genuine" in r for r in reasons)


def test_absence_of_evidence_is_low_and_says_what_was_checked():
    risk, reasons = decide([NO_MATCH, S("c2pa", "1", None, "no_manifest"),
                            S("generator_metadata", "1", None, "none")], CONFIG)
    assert risk is Risk.LOW
    assert reasons == ("no evidence of synthesis found (checked: no hash-bank match, no C2PA manifest, "
                       "no generator metadata)",)


def test_unscannable_wins_and_keeps_the_reason_first():
    risk, reasons = decide([_match("known_synthetic", "exact", 0)], CONFIG, "the file is empty (0 bytes)")
    assert risk is Risk.UNSCANNABLE and reasons[0] == "unscannable: the file is empty (0 bytes)"
