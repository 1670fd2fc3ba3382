"""ONNX detection models: the registry and the detector that runs them.

A model is a folder (under data/models/, or RD_MODELS_DIR) holding `model.onnx` and `card.json`.
Any binary image classifier plugs in without code: the card says its input (NCHW or NHWC float32
RGB, size, value range), which output means synthetic and whether it is a logit or a probability,
and the threshold chosen on validation data. Loading validates all of that and runs one smoke
inference; a malformed model or card is refused with a message that says what is wrong.

Scoring never resizes (resampling erases the traces models read): native-resolution tiles, up to
a 3x3 grid spread over the image, reflect-padded when a side is short. The image score is the
mean tile probability; the worst tile is kept as evidence. The overlay (per-tile scores over the
image) is a visual aid for reviewers, not a localisation of the manipulation.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.domain.scan import SignalRecord
from core.settings import DEFAULT_MODELS_DIR, PROJECT_ROOT

REQUIRED_FIELDS = ("name", "version", "inputs", "synthetic_output", "threshold", "training_data", "metrics", "limits")
METRIC_FIELDS = ("auc", "eer", "tpr_at_1pct_fpr", "brier", "n")


class ModelError(ValueError):
    """A model or its card cannot be used; the message says why."""


@dataclass(frozen=True)
class ModelCard:
    folder: Path
    raw: dict[str, Any]

    name = property(lambda self: self.raw["name"])
    version = property(lambda self: str(self.raw["version"]))
    threshold = property(lambda self: float(self.raw["threshold"]))

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.raw["inputs"]["size"]
        return int(h), int(w)

    @property
    def layout(self) -> str:
        return self.raw["inputs"].get("layout", "NCHW")

    @property
    def value_range(self) -> tuple[float, float]:
        low, high = self.raw["inputs"].get("value_range", [0.0, 1.0])
        return float(low), float(high)


def read_card(folder: Path) -> ModelCard:
    path = folder / "card.json"
    if not path.is_file():
        raise ModelError(f"{folder.name}: no card.json beside the model")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{folder.name}: card.json is not valid JSON ({exc})") from None
    missing = [f for f in REQUIRED_FIELDS if f not in raw]
    if missing:
        raise ModelError(f"{folder.name}: card.json lacks required fields: {', '.join(missing)}")
    inputs, output = raw["inputs"], raw["synthetic_output"]
    if not isinstance(inputs, dict) or len(inputs.get("size", [])) != 2:
        raise ModelError(f"{folder.name}: card inputs.size must be [height, width]")
    if inputs.get("layout", "NCHW") not in ("NCHW", "NHWC") or inputs.get("channel_order", "RGB") != "RGB":
        raise ModelError(f"{folder.name}: card inputs must be RGB in NCHW or NHWC layout")
    if not isinstance(output, dict) or output.get("kind") not in ("logit", "probability"):
        raise ModelError(f"{folder.name}: card synthetic_output.kind must be 'logit' or 'probability'")
    if not isinstance(raw["threshold"], (int, float)) or not 0 < float(raw["threshold"]) < 1:
        raise ModelError(f"{folder.name}: card threshold must be a probability between 0 and 1")
    if not isinstance(raw["metrics"], dict) or not raw["metrics"]:
        raise ModelError(f"{folder.name}: card metrics must hold at least one evaluation set")
    for set_name, values in raw["metrics"].items():
        lacking = [m for m in METRIC_FIELDS if not isinstance(values, dict) or m not in values]
        if lacking:
            raise ModelError(f"{folder.name}: metrics for {set_name!r} lack {', '.join(lacking)}")
    return ModelCard(folder, raw)


class LoadedModel:
    """A validated model ready to score tiles."""

    def __init__(self, card: ModelCard):
        import onnxruntime as ort

        self.card = card
        path = card.folder / "model.onnx"
        if not path.is_file():
            raise ModelError(f"{card.folder.name}: no model.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"{card.folder.name}: model.onnx is not a loadable ONNX model "
                             f"({type(exc).__name__}: {str(exc)[:200]})") from None
        self._check_signature()
        smoke = self.predict(np.zeros((1, *card.size, 3), dtype=np.uint8))
        if smoke.shape != (1,) or not np.all(np.isfinite(smoke)):
            raise ModelError(f"{card.folder.name}: the smoke inference did not give one finite score")

    def _check_signature(self) -> None:
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(f"{self.card.folder.name}: a model must take exactly one image input")
        shape, (h, w) = inputs[0].shape, self.card.size
        expected = [3, h, w] if self.card.layout == "NCHW" else [h, w, 3]
        if len(shape) != 4 or any(isinstance(d, int) and d != e for d, e in zip(shape[1:], expected)):
            raise ModelError(f"{self.card.folder.name}: the model's input shape {shape} does not match the "
                             f"card ({self.card.layout} {expected})")
        index = int(self.card.raw["synthetic_output"].get("index", 0))
        outputs = self.session.get_outputs()
        if index >= len(outputs[0].shape or [1]) and len(outputs) <= index:
            raise ModelError(f"{self.card.folder.name}: synthetic_output.index {index} is not an output")

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 tiles -> (N,) probabilities that each tile is synthetic."""
        low, high = self.card.value_range
        batch = crops.astype(np.float32) / np.float32(255.0) * np.float32(high - low) + np.float32(low)
        if self.card.layout == "NCHW":
            batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
        out = self.session.run(None, {self.session.get_inputs()[0].name: batch})[0]
        out = np.asarray(out, dtype=np.float64).reshape(len(crops), -1)
        column = out[:, int(self.card.raw["synthetic_output"].get("index", 0)) if out.shape[1] > 1 else 0]
        if self.card.raw["synthetic_output"]["kind"] == "logit":
            column = 1.0 / (1.0 + np.exp(-column))
        return column


def tile_grid(rgb: np.ndarray, size: tuple[int, int], max_side: int = 3) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Native-resolution tiles spread over the image; training/preprocess.py's `tiles` uses this too."""
    th, tw = size
    h, w = rgb.shape[:2]
    if h < th or w < tw:
        rgb = np.pad(rgb, ((0, max(0, th - h)), (0, max(0, tw - w)), (0, 0)), mode="reflect")
        h, w = rgb.shape[:2]
    ys = np.linspace(0, h - th, min(max_side, math.ceil(h / th))).round().astype(int)
    xs = np.linspace(0, w - tw, min(max_side, math.ceil(w / tw))).round().astype(int)
    boxes = [(int(y), int(x)) for y in ys for x in xs]
    return np.ascontiguousarray(np.stack([rgb[y:y + th, x:x + tw] for y, x in boxes])), boxes


def discover(folder: Path | None = None) -> tuple[list[ModelCard], dict[str, str]]:
    """Every model folder's card, and the reasons the others were refused (cards only: cheap)."""
    cards, refused = [], {}
    root = folder or DEFAULT_MODELS_DIR
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and (p / "model.onnx").exists()) if root.is_dir() else []:
        try:
            cards.append(read_card(sub))
        except ModelError as exc:
            refused[sub.name] = str(exc)
    return cards, refused


class OnnxDetector:
    """A Detector (core.verification.detectors) backed by one registered model."""

    def __init__(self, model: LoadedModel, threshold: float | None = None):
        self.model = model
        self.name = model.card.name
        self.version = model.card.version
        self.threshold = threshold if threshold is not None else model.card.threshold

    def detect(self, image_rgb, context) -> SignalRecord:
        if image_rgb is None:
            return SignalRecord(self.name, self.version, None, "not_applicable", {"note": "no image to score"})
        if context.media.kind in ("video", "webm"):
            return self._detect_video(context)
        rgb = np.asarray(image_rgb.array)
        crops, boxes = tile_grid(rgb, self.model.card.size)
        scores = self.model.predict(crops)
        whole, worst = float(scores.mean()), int(scores.argmax())
        faces = self._score_faces(image_rgb, rgb)
        score = max([whole] + [f["score"] for f in faces])
        label = "synthetic" if score >= self.threshold else "no_trace_found"
        evidence = {"model": self.name, "model_version": self.version, "threshold": self.threshold,
                    "whole_image_score": round(whole, 4), "tiles": len(boxes),
                    "worst_tile": {"y": boxes[worst][0], "x": boxes[worst][1], "score": round(float(scores[worst]), 4)},
                    "tile_scores": [round(float(s), 4) for s in scores], "faces": faces,
                    "card_auc_test": self.model.card.raw["metrics"].get("test:all", {}).get("auc")}
        flagged = score >= self.threshold or float(scores[worst]) >= self.threshold
        path = self._overlay(rgb, boxes, scores, context) if context.config.explanations_dir and flagged else None
        return SignalRecord(self.name, self.version, round(score, 4), label, evidence, path)

    def _score_faces(self, image_rgb, rgb: np.ndarray) -> list[dict]:
        """Face crops (a margin around each box) scored like the whole image: selfies and ID photos
        are usually forged where the face is."""
        from core.verification.faces import find_faces

        faces = getattr(image_rgb, "_faces", None)
        if faces is None:
            faces = find_faces(image_rgb)
            image_rgb._faces = faces  # found once per image, shared by every model
        scored = []
        for box in faces:
            pad_y, pad_x = box["h"] // 5, box["w"] // 5
            crop = rgb[max(0, box["y"] - pad_y):box["y"] + box["h"] + pad_y,
                       max(0, box["x"] - pad_x):box["x"] + box["w"] + pad_x]
            tiles, _ = tile_grid(np.ascontiguousarray(crop), self.model.card.size, max_side=2)
            scored.append({**box, "score": round(float(self.model.predict(tiles).mean()), 4)})
        return scored

    def _detect_video(self, context) -> SignalRecord:
        """Each sampled frame scored like an image; the clip's score is the mean frame score,
        with the maximum, the share of frames over threshold and the worst frames as evidence."""
        per_frame = []
        for image in context.media.images:
            crops, _ = tile_grid(np.asarray(image.array), self.model.card.size)
            per_frame.append((float(self.model.predict(crops).mean()), image))
        scores = np.array([s for s, _ in per_frame])
        score = float(scores.mean())
        worst = sorted(per_frame, key=lambda pair: -pair[0])[:3]
        evidence = {"model": self.name, "model_version": self.version, "threshold": self.threshold,
                    "frames_scored": len(per_frame), "max": round(float(scores.max()), 4),
                    "mean": round(score, 4), "share_over_threshold": round(float((scores >= self.threshold).mean()), 4),
                    "worst_frames": [{"frame": image.source, "score": round(s, 4)} for s, image in worst]}
        path = None
        if float(scores.max()) >= self.threshold:
            path = context.save_explanation(worst[0][1].pil, f"{self.name}-{_digest(context)}-worst-frame")
        label = "synthetic" if score >= self.threshold else "no_trace_found"
        return SignalRecord(self.name, self.version, round(score, 4), label, evidence, path)

    def _overlay(self, rgb: np.ndarray, boxes, scores, context) -> str | None:
        """Per-tile scores tinted over the image: a visual aid, not a localisation."""
        from PIL import Image

        th, tw = self.model.card.size
        heat = np.zeros(rgb.shape[:2], dtype=np.float32)
        for (y, x), s in zip(boxes, scores):
            heat[y:y + th, x:x + tw] = np.maximum(heat[y:y + th, x:x + tw], s)
        tint = np.zeros_like(rgb, dtype=np.float32)
        tint[..., 0] = 255 * heat
        blended = (0.6 * rgb.astype(np.float32) + 0.4 * tint).clip(0, 255).astype(np.uint8)
        return context.save_explanation(Image.fromarray(blended), f"{self.name}-{_digest(context)}")


def _digest(context) -> str:
    import hashlib

    return hashlib.sha256(context.data).hexdigest()[:16]


def detector_factory(settings) -> OnnxDetector:
    """`DetectorSettings(factory="core.verification.onnx_models:detector_factory",
    options={"path": "data/models/spectrum_mlp"}, thresholds={...})`."""
    folder = Path(settings.options["path"])
    if not folder.is_absolute():
        folder = PROJECT_ROOT / folder
    model = LoadedModel(read_card(folder))
    return OnnxDetector(model, threshold=settings.options.get("threshold"))


def detector_settings(card: ModelCard, *, enabled: bool = True, threshold: float | None = None):
    """Engine settings for a registered model. A model alone flags for review (medium); it never
    makes a file high risk by itself: the cards' own numbers do not support that."""
    from core.verification.config import DetectorSettings

    t = threshold if threshold is not None else card.threshold
    options: dict[str, Any] = {"path": str(card.folder), "threshold": t}
    return DetectorSettings(enabled=enabled, factory="core.verification.onnx_models:detector_factory",
                            thresholds={"medium": t}, options=options)
