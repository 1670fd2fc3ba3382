"""Hash-bank matching and CSV validation in memory; detectors plugging in through configuration."""
from __future__ import annotations

import io

import pytest

from core.domain.lifecycle import Risk
from core.domain.scan import SignalRecord
from core.verification.config import DetectorSettings, EngineConfig
from core.verification.corpus import genuine_photo
from core.verification.detectors import build_detectors
from core.verification.engine import Engine
from core.verification.hashbank import BankEntry, MemoryHashBank, read_csv, write_csv

SHA = "a" * 64


def test_memory_bank_matches_exactly_and_within_the_distance():
    bank = MemoryHashBank([BankEntry(1, "known_synthetic", SHA, "ffffffff00000000", "s"),
                           BankEntry(2, "known_genuine", None, "0000000000000000", "g")])
    exact = bank.match(SHA, [], 10)
    assert [(m.entry_id, m.kind, m.distance) for m in exact] == [(1, "exact", 0)]
    near = bank.match(None, ["ffffffff0000000f"], 4)
    assert [(m.entry_id, m.kind, m.distance) for m in near] == [(1, "perceptual", 4)]
    assert bank.match(None, ["ffffffff000000ff"], 4) == []


def test_csv_round_trip_and_refusal_with_line_numbers():
    entries = [BankEntry(None, "known_synthetic", SHA, "0123456789abcdef", "feed", "note, with comma")]
    buf = io.StringIO()
    assert write_csv(entries, buf) == 1
    assert read_csv(io.StringIO(buf.getvalue())) == entries
    bad = "bank,sha256,phash,source,note\nknown_synthetic,xyz,,feed,\nmaybe,,0123456789abcdef,feed,\n"
    with pytest.raises(ValueError, match="line 2: sha256 must be 64 hex.*line 3: bank must be one of"):
        read_csv(io.StringIO(bad))


class FixedScoreDetector:
    """A stand-in for a model detector (our own interface), named by factory in the settings."""

    name, version = "model_stub", "0.1"

    def __init__(self, settings):
        self.score = settings.options["score"]

    def detect(self, image_rgb, context) -> SignalRecord:
        mean = float(image_rgb.array.mean())  # proves it received the shared pixels
        return SignalRecord(self.name, self.version, self.score, "synthetic", {"mean": round(mean, 1)})


def make_stub(settings):
    return FixedScoreDetector(settings)


def _config(score: float, enabled: bool = True) -> EngineConfig:
    return EngineConfig(isolate=False, detectors={"model_stub": DetectorSettings(
        enabled=enabled, factory=f"{__name__}:make_stub", thresholds={"high": 0.9, "medium": 0.5},
        options={"score": score})})


def test_a_model_detector_plugs_in_through_configuration_alone():
    photo = genuine_photo(11, (96, 64))
    outcome = Engine(_config(0.93)).scan_bytes(photo, file_name="p.jpg")
    signal = next(s for s in outcome.signals if s.name == "model_stub")
    assert signal.evidence["mean"] > 0
    assert outcome.risk is Risk.HIGH and "at or above its high threshold 0.90" in outcome.reasons[0]
    assert Engine(_config(0.6)).scan_bytes(photo, file_name="p.jpg").risk is Risk.MEDIUM


def test_disabled_detectors_are_not_built_and_unknown_ones_are_refused():
    assert build_detectors(_config(0.9, enabled=False)) == []
    with pytest.raises(ValueError, match="no detector named 'nope'"):
        build_detectors(EngineConfig(detectors={"nope": DetectorSettings()}))
