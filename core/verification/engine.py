"""The engine: bytes in, ScanOutcome out.

    engine = Engine(EngineConfig(), bank)        # one sandboxed child, started on first use
    outcome = engine.scan_file("upload.jpg")     # or engine.scan_bytes(data, file_name=..., declared_type=...)

Work is split in two. `Analyzer.analyse` does everything that touches untrusted content (SHA-256,
intake and decoding, perceptual hashes, every detector) and runs inside the sandboxed child, so
pixels never cross a process boundary: only a small JSON result comes back. Bank matching and the
verdict run in the caller, where the bank lives. `scan_bytes()` at module level keeps one engine
per process, so a process pool can call it directly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.domain.lifecycle import Risk
from core.domain.scan import ScanOutcome, SignalRecord
from core.verification.config import EngineConfig
from core.verification.hashbank import HashBank, MemoryHashBank
from core.verification.hashing import PHASH_VERSION, phash, sha256_bytes, sha256_file
from core.verification.verdict import decide

HASH_SIGNAL_VERSION = f"sha256+{PHASH_VERSION}"


@dataclass(frozen=True)
class Analysis:
    """What the isolated half returns. Plain JSON-able data: the child is not trusted to pickle."""

    sha256: str | None
    phashes: tuple[str, ...] = ()
    signals: tuple[SignalRecord, ...] = ()
    unscannable_reason: str | None = None
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> Analysis:
        signals = tuple(SignalRecord(str(s["name"]), str(s["version"]),
                                     None if s["score"] is None else float(s["score"]), str(s["label"]),
                                     dict(s["evidence"]), s.get("explanation_path"))
                        for s in raw.get("signals", []))
        return cls(sha256=raw.get("sha256"), phashes=tuple(str(p) for p in raw.get("phashes", [])),
                   signals=signals, unscannable_reason=raw.get("unscannable_reason"),
                   info=dict(raw.get("info", {})))


class Analyzer:
    """Intake, hashes and detectors, in whatever process holds it (the sandbox child by default)."""

    def __init__(self, config: EngineConfig):
        from core.verification.c2pa_check import load_trust_anchors
        from core.verification.detectors import build_detectors

        self.config = config
        self.detectors = build_detectors(config)
        self.trust_pem = load_trust_anchors(config.trust_anchors_path)

    def analyse(self, data: bytes, *, file_name: str, declared_type: str | None) -> Analysis:
        from core.verification.detectors import DetectionContext
        from core.verification.intake import Unscannable, explain, intake

        sha = sha256_bytes(data)
        try:
            media = intake(data, file_name=file_name, declared_type=declared_type, config=self.config)
            phashes = tuple(dict.fromkeys(phash(img) for img in media.images))
        except Unscannable as exc:
            return Analysis(sha, unscannable_reason=exc.reason)
        except Exception as exc:  # pragma: no cover - intake already converts; belt and braces
            return Analysis(sha, unscannable_reason=explain(exc))
        context = DetectionContext(file_name, data, media, self.config, self.trust_pem)
        primary = media.images[0] if media.images else None
        signals = tuple(self._run(d, primary, context) for d in self.detectors)
        info = {"format": media.pil_format, "width": media.width, "height": media.height,
                "frames": media.frames, "images_analysed": len(media.images), "notes": media.notes}
        return Analysis(sha, phashes, signals, None, info)

    @staticmethod
    def _run(detector, image, context) -> SignalRecord:
        try:
            return detector.detect(image, context)
        except MemoryError:
            raise
        except Exception as exc:  # one detector's failure is a signal, not a lost scan
            return SignalRecord(detector.name, detector.version, None, "error",
                                {"error": f"{type(exc).__name__}: {str(exc)[:200]}"})


def finish(analysis: Analysis, *, config: EngineConfig, bank: HashBank) -> ScanOutcome:
    """Bank matching and the verdict: cheap, and done where the bank lives."""
    matches = bank.match(analysis.sha256, analysis.phashes, config.phash_max_distance)
    evidence = {"sha256": analysis.sha256, "phash": analysis.phashes[0] if analysis.phashes else None,
                "phashes": list(analysis.phashes), "matches": [asdict(m) for m in matches],
                "max_distance": config.phash_max_distance, **analysis.info}
    hash_signal = SignalRecord("hash", HASH_SIGNAL_VERSION, None, _hash_label(matches), evidence)
    signals = (hash_signal, *analysis.signals)
    risk, reasons = decide(signals, config, analysis.unscannable_reason)
    return ScanOutcome(risk=risk, reasons=reasons, signals=signals, sha256=analysis.sha256,
                       unscannable_reason=analysis.unscannable_reason if risk is Risk.UNSCANNABLE else None)


def _hash_label(matches) -> str:
    synthetic = [m for m in matches if m.bank == "known_synthetic"]
    if any(m.kind == "exact" for m in synthetic):
        return "known_synthetic_exact"
    if synthetic:
        return "known_synthetic_near"
    return "known_genuine" if matches else "no_match"


class Engine:
    def __init__(self, config: EngineConfig | None = None, bank: HashBank | None = None):
        self.config = config or EngineConfig()
        self.bank = bank if bank is not None else MemoryHashBank()
        self._sandbox = None
        self._analyzer = None

    def _isolated(self):
        if self._sandbox is None:
            from core.verification.sandbox import Sandbox

            self._sandbox = Sandbox(self.config)
        return self._sandbox

    def _local(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = Analyzer(self.config)
        return self._analyzer

    def scan_file(self, path: str | Path, *, declared_type: str | None = None) -> ScanOutcome:
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            return _unreadable(None, f"the file cannot be read ({exc.strerror or exc})")
        if size > self.config.max_file_bytes:
            return _unreadable(sha256_file(path), f"the file is {size / 2**20:.1f} MB; the limit is "
                                                  f"{self.config.max_file_bytes / 2**20:.0f} MB")
        if self.config.isolate:
            analysis = self._isolated().analyse(path=path, file_name=path.name, declared_type=declared_type)
        else:
            analysis = self._local().analyse(path.read_bytes(), file_name=path.name,
                                             declared_type=declared_type)
        return finish(analysis, config=self.config, bank=self.bank)

    def scan_bytes(self, data: bytes, *, file_name: str, declared_type: str | None = None) -> ScanOutcome:
        if self.config.isolate:
            analysis = self._isolated().analyse(data=data, file_name=file_name, declared_type=declared_type)
        else:
            analysis = self._local().analyse(data, file_name=file_name, declared_type=declared_type)
        return finish(analysis, config=self.config, bank=self.bank)

    @property
    def sandbox(self):
        return self._isolated()

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _unreadable(sha256: str | None, reason: str) -> ScanOutcome:
    return ScanOutcome(risk=Risk.UNSCANNABLE, reasons=(f"unscannable: {reason}",), sha256=sha256,
                       unscannable_reason=reason)


_process_engine: Engine | None = None


def scan_bytes(data: bytes, *, file_name: str, declared_type: str | None = None,
               config: EngineConfig | None = None, bank: HashBank | None = None) -> ScanOutcome:
    """One engine per process (its sandbox child is reused), for pool workers and simple callers."""
    global _process_engine
    config = config or EngineConfig()
    if _process_engine is None or _process_engine.config != config:
        if _process_engine is not None:
            _process_engine.close()
        _process_engine = Engine(config)
    _process_engine.bank = bank if bank is not None else MemoryHashBank()
    return _process_engine.scan_bytes(data, file_name=file_name, declared_type=declared_type)


def scan_file(path: str | Path, *, config: EngineConfig | None = None,
              bank: HashBank | None = None) -> ScanOutcome:
    with Engine(config, bank) as engine:
        return engine.scan_file(path)
