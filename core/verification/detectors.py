"""The detector interface and the registry that builds detectors from configuration.

A detector looks at one file and returns a SignalRecord: name, version, score (0..1, or None
where it has no score), label and an evidence mapping. It may save an explanation image (a heat
map, say) through `context.save_explanation`. Built-in detectors are named here; any other
(an ONNX model in a later issue) is named by `DetectorSettings.factory = "module:callable"`, so it
plugs in through configuration alone. Detectors run in the sandboxed child, once per file, and
share the decoded pixels: `image_rgb.pil`, `image_rgb.array` (read-only) and `image_rgb.small`.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.domain.scan import SignalRecord
from core.verification.config import DetectorSettings, EngineConfig
from core.verification.intake import CanonicalImage, DecodedMedia


@dataclass
class DetectionContext:
    file_name: str
    data: bytes                     # the raw file, for detectors that read containers (C2PA)
    media: DecodedMedia             # all decoded images (frames, PDF images) and raw metadata
    config: EngineConfig
    trust_pem: str | None = None    # C2PA trust anchors, loaded once per child

    def save_explanation(self, image, name: str) -> str | None:
        """Store a detector's explanation image (a PIL image) as `<name>.png`; returns its path, or
        None when explanations are not configured or the image cannot be written (it is a visual
        aid: the detector's finding stands without it)."""
        if self.config.explanations_dir is None:
            return None
        folder = Path(self.config.explanations_dir)
        path = folder / explanation_file_name(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            image.save(path, "PNG")
        except OSError:  # over the child's file-size limit, say
            return None
        return str(path)


def explanation_file_name(name: str) -> str:
    """A plain PNG file name; the sandbox's parent accepts no other from the child."""
    return (re.sub(r"[^a-z0-9_-]+", "_", name.lower())[:120] or "explanation") + ".png"


@runtime_checkable
class Detector(Protocol):
    name: str
    version: str

    def detect(self, image_rgb: CanonicalImage | None, context: DetectionContext) -> SignalRecord:
        """image_rgb is the primary image (None for a PDF without images)."""
        ...


DetectorFactory = Callable[[DetectorSettings], Detector]


def _builtin() -> dict[str, DetectorFactory]:
    from core.verification.c2pa_check import C2paDetector
    from core.verification.metadata import GeneratorMetadataDetector

    return {"c2pa": C2paDetector, "generator_metadata": GeneratorMetadataDetector}


def load_factory(spec: str) -> DetectorFactory:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"detector factory must look like 'package.module:callable', not {spec!r}")
    return getattr(importlib.import_module(module), attr)


def build_detectors(config: EngineConfig) -> list[Detector]:
    builtin = _builtin()
    detectors = []
    for name, settings in config.detectors.items():
        if not settings.enabled:
            continue
        factory = load_factory(settings.factory) if settings.factory else builtin.get(name)
        if factory is None:
            raise ValueError(f"no detector named {name!r}; give it a factory in its settings")
        detector = factory(settings)
        if not isinstance(detector, Detector):
            raise TypeError(f"detector {name!r} does not have name, version and detect()")
        detectors.append(detector)
    return detectors
