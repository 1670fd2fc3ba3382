"""Hostile files: each ends unscannable with a reason, the scanning process survives, and the
scanning child stays inside its limits.

Stated bound: the child's address space is capped at EngineConfig.child_memory_bytes (2 GiB by
default, RLIMIT_AS, checked in /proc) and its peak resident memory over the whole hostile corpus
stays under PEAK_RSS_BOUND. Crashes, CPU exhaustion, wall-clock overruns and allocation failure
are provoked on purpose and each costs one file, never the scanner.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from core.domain.lifecycle import Risk
from core.domain.scan import SignalRecord
from core.verification.config import DetectorSettings, EngineConfig
from core.verification.corpus import genuine_photo, natural_image
from core.verification.engine import Engine
from core.verification.hostile import hostile_samples

PEAK_RSS_BOUND = 512 * 2**20


@pytest.fixture(scope="module")
def engine():
    with Engine(EngineConfig()) as eng:
        yield eng


def test_there_are_at_least_fifty_hostile_files():
    assert len(hostile_samples()) >= 50


@pytest.fixture(scope="module")
def hostile_outcomes(engine):
    first_pid = engine.sandbox.stats()["pid"]
    outcomes = [(s, engine.scan_bytes(s.data, file_name=s.name, declared_type=s.declared_type))
                for s in hostile_samples()]
    return first_pid, outcomes


def test_every_hostile_file_is_unscannable_with_a_plain_reason(engine, hostile_outcomes):
    first_pid, outcomes = hostile_outcomes
    for sample, outcome in outcomes:
        assert outcome.risk is Risk.UNSCANNABLE, (sample.name, outcome.reasons)
        reason = outcome.unscannable_reason
        assert reason and len(reason) < 300 and "Traceback" not in reason, (sample.name, reason)
    # Hostile input is refused inside the child, without killing it.
    assert engine.sandbox.pid == first_pid
    assert engine.scan_bytes(genuine_photo(1, (128, 96)), file_name="ok.jpg").risk is Risk.LOW


def test_the_child_runs_under_its_memory_limit_and_stays_under_the_stated_bound(engine, hostile_outcomes):
    stats = engine.sandbox.stats()
    assert stats["memory_limit_bytes"] == engine.config.child_memory_bytes
    with open(f"/proc/{stats['pid']}/limits") as fh:
        line = next(row for row in fh if row.startswith("Max address space"))
    assert int(line.split()[3]) == engine.config.child_memory_bytes
    assert stats["peak_rss_bytes"] < PEAK_RSS_BOUND


def test_allocation_beyond_the_memory_limit_costs_one_file(engine, tmp_path):
    engine.sandbox.stats()
    baseline = engine.sandbox.ready_info["baseline_vm_bytes"]  # a fresh child, decoders imported
    tight = EngineConfig(child_memory_bytes=baseline + 48 * 2**20)
    big = tmp_path / "big.png"
    natural_image(1, (6000, 4000)).save(big, "PNG", compress_level=1)  # 24 MP: ~96 MB decoded
    with Engine(tight) as small:
        outcome = small.scan_file(big)
        assert outcome.risk is Risk.UNSCANNABLE
        assert "memory" in outcome.unscannable_reason, outcome.unscannable_reason
        assert small.scan_bytes(genuine_photo(2, (96, 72)), file_name="ok.jpg").risk is Risk.LOW


class CrashingDetector:
    """Our own detector interface, made to die the ways a buggy native decoder can."""

    name, version = "crasher", "1"

    def __init__(self, settings):
        pass

    def detect(self, image_rgb, context) -> SignalRecord:
        if "segv" in context.file_name:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "spin" in context.file_name:
            while True:
                pass
        if "sleep" in context.file_name:
            time.sleep(30)
        return SignalRecord(self.name, self.version, None, "none")


def make_crasher(settings):
    return CrashingDetector(settings)


def _crash_config(**limits) -> EngineConfig:
    return EngineConfig(detectors={"crasher": DetectorSettings(factory=f"{__name__}:make_crasher")}, **limits)


def test_a_crashing_decoder_costs_one_file_and_the_next_file_is_scanned():
    photo = genuine_photo(3, (96, 72))
    with Engine(_crash_config()) as eng:
        crashed = eng.scan_bytes(photo, file_name="segv.jpg")
        assert crashed.risk is Risk.UNSCANNABLE and "crashed" in crashed.unscannable_reason
        assert "SIGSEGV" in crashed.unscannable_reason and crashed.sha256
        assert eng.scan_bytes(photo, file_name="fine.jpg").risk is Risk.LOW


def test_cpu_and_wall_clock_limits_stop_a_runaway_scan():
    photo = genuine_photo(4, (96, 72))
    with Engine(_crash_config(child_cpu_seconds=1, child_wall_seconds=20)) as eng:
        spun = eng.scan_bytes(photo, file_name="spin.jpg")
        assert "CPU time" in spun.unscannable_reason
        assert eng.scan_bytes(photo, file_name="fine.jpg").risk is Risk.LOW
    with Engine(_crash_config(child_wall_seconds=1.0)) as eng:
        eng.sandbox.stats()
        started = time.monotonic()
        slept = eng.scan_bytes(photo, file_name="sleep.jpg")
        assert time.monotonic() - started < 5
        assert "longer than 1 s" in slept.unscannable_reason
        assert eng.scan_bytes(photo, file_name="fine.jpg").risk is Risk.LOW


def test_files_over_the_size_limit_are_refused_without_reading_them_whole(tmp_path):
    path = tmp_path / "huge.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\x00" * 3_000_000)
    with Engine(EngineConfig(max_file_bytes=1_000_000)) as eng:
        outcome = eng.scan_file(path)
    assert outcome.unscannable_reason == "the file is 2.9 MB; the limit is 1 MB"
    assert outcome.sha256 and eng._sandbox is None  # refused before any child was started
