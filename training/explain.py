"""Reference explanation overlays for reviewers (numpy, Pillow, onnxruntime only). Both are visual aids:
they show what moved a score, never which pixels were manipulated, and no verdict depends on them.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
from PIL import Image

from training.eval_core import predict


def occlusion_map(session: ort.InferenceSession, crop: np.ndarray, patch: int = 16, stride: int = 8) -> np.ndarray:
    """Drop in p_synthetic when a mid-grey patch covers each position of a 128x128 uint8 crop,
    as a 128x128 float map (positive: the covered pixels raised the score)."""
    base = predict(session, crop[None])[0]
    positions = [(y, x) for y in range(0, crop.shape[0] - patch + 1, stride)
                 for x in range(0, crop.shape[1] - patch + 1, stride)]
    occluded = np.repeat(crop[None], len(positions), axis=0)
    for i, (y, x) in enumerate(positions):
        occluded[i, y:y + patch, x:x + patch] = 128
    drops = base - predict(session, occluded)
    heat, count = np.zeros(crop.shape[:2]), np.zeros(crop.shape[:2])
    for d, (y, x) in zip(drops, positions):
        heat[y:y + patch, x:x + patch] += d
        count[y:y + patch, x:x + patch] += 1
    return heat / np.maximum(count, 1)


def spectral_residual(crop: np.ndarray) -> np.ndarray:
    """Log power spectrum minus its ring average (centred): isolated bright dots are periodic traces."""
    grey = crop.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
    n = grey.shape[0]
    window = np.outer(np.hanning(n), np.hanning(n))
    logp = np.fft.fftshift(np.log(np.abs(np.fft.fft2((grey - grey.mean()) * window)) ** 2 + 1e-8))
    yy, xx = np.indices(logp.shape) - n // 2
    ring = np.hypot(yy, xx).astype(int)
    ring_mean = np.bincount(ring.ravel(), logp.ravel()) / np.bincount(ring.ravel())
    return logp - ring_mean[ring]


def overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """Heat map in red over the crop, scaled to the map's own positive range."""
    scale = max(float(heat.max()), 1e-6)
    red = np.clip(heat / scale, 0, 1)[..., None] * np.array([255.0, 0, 0])
    return Image.fromarray(np.uint8(np.clip((1 - alpha) * crop + alpha * red, 0, 255)))
