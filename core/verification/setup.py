"""The engine's configuration for this installation: built-in detectors, every registered model
(data/models or RD_MODELS_DIR) with its card's threshold, and an admin's overrides (enable,
disable, re-threshold) from the settings table."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from core.verification.config import DetectorSettings, EngineConfig
from core.verification.onnx_models import detector_settings, discover

log = logging.getLogger(__name__)
# Off until an admin turns it on: its card measures 13.5% false positives on unseen test scenes.
DISABLED_BY_DEFAULT = {"artifact_cnn"}


def engine_config(overrides: Mapping[str, dict] | None = None, explanations_dir: Path | None = None,
                  models_folder: Path | None = None) -> EngineConfig:
    """`overrides`: {detector name: {"enabled": bool, "threshold": float}} as an admin set them."""
    overrides = overrides or {}
    detectors: dict[str, DetectorSettings] = {"c2pa": DetectorSettings(), "generator_metadata": DetectorSettings()}
    for name in list(detectors):
        if name in overrides and "enabled" in overrides[name]:
            detectors[name] = DetectorSettings(enabled=bool(overrides[name]["enabled"]))
    cards, refused = discover(models_folder)
    for name, reason in refused.items():
        log.error("model %s refused: %s", name, reason)
    for card in cards:
        chosen = overrides.get(card.name, {})
        detectors[card.name] = detector_settings(
            card, enabled=bool(chosen.get("enabled", card.name not in DISABLED_BY_DEFAULT)),
            threshold=chosen.get("threshold"))
    return EngineConfig(detectors=detectors, explanations_dir=explanations_dir)
