"""Every limit and threshold of the engine in one picklable dataclass, with defaults that suit a
CRM: phone photos up to about 80 megapixels, scans as PDF, files up to 50 MB."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT

DEFAULT_TRUST_ANCHORS = PROJECT_ROOT / "data" / "c2pa" / "trust_anchors.pem"
MiB = 1024 * 1024


@dataclass(frozen=True)
class DetectorSettings:
    """How one detector runs. `factory` ("module:callable") names a detector that is not built in,
    such as an ONNX model; it is called with these settings and returns a Detector. A scoring
    detector's `thresholds` ({"high": 0.9, "medium": 0.6}) map its score to a risk tier."""

    enabled: bool = True
    factory: str | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


def _default_detectors() -> dict[str, DetectorSettings]:
    return {"c2pa": DetectorSettings(), "generator_metadata": DetectorSettings()}


@dataclass(frozen=True)
class EngineConfig:
    # Intake
    max_file_bytes: int = 50 * MiB
    max_pixels: int = 80_000_000          # per image, checked from the header before decoding
    max_frames: int = 1_000               # animated GIF/WebP frames, TIFF pages
    max_images_per_file: int = 8          # PDF embedded images (and pages) analysed
    max_pdf_pages: int = 50
    video_sample_frames: int = 8          # frames sampled, spread over the clip
    max_video_seconds: float = 600.0      # longer clips are refused (ten minutes)
    max_text_chunk_bytes: int = 1 * MiB   # one PNG text chunk, decompressed
    max_metadata_bytes: int = 8 * MiB     # all PNG text chunks together, decompressed
    # Hash bank
    phash_max_distance: int = 10          # Hamming distance (of 64 bits) that counts as a near-duplicate
    # C2PA: a PEM file of trust anchors; a file without certificates trusts nobody
    trust_anchors_path: Path = DEFAULT_TRUST_ANCHORS
    # Detectors by name; model detectors are added here by configuration
    detectors: Mapping[str, DetectorSettings] = field(default_factory=_default_detectors)
    # Isolation: decoding and detectors run in a child process with these limits
    isolate: bool = True
    child_memory_bytes: int = 2048 * MiB  # RLIMIT_AS of the child (address space, not just RSS)
    child_cpu_seconds: int = 30           # CPU time per file (RLIMIT_CPU)
    child_wall_seconds: float = 60.0      # wall-clock time per file before the child is killed
    child_max_files: int = 500            # recycle the child after this many files
    explanations_dir: Path | None = None  # where detectors may save explanation images

    def __post_init__(self):
        for name in ("max_file_bytes", "max_pixels", "max_frames", "max_images_per_file", "max_pdf_pages",
                     "video_sample_frames", "max_video_seconds",
                     "max_text_chunk_bytes", "max_metadata_bytes", "child_memory_bytes",
                     "child_cpu_seconds", "child_wall_seconds", "child_max_files"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 <= self.phash_max_distance <= 64:
            raise ValueError("phash_max_distance must be between 0 and 64")
