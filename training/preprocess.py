"""Reference preprocessing for every model in data/models/: numpy and Pillow only, so a runtime can
copy it exactly. Both shipped models take NCHW float32 RGB in [0, 1], 128x128, and do their own
normalisation inside the graph.

Never resize an image before scoring: resampling erases (or creates) the very traces the models
read. Score native-resolution 128x128 tiles instead.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

SIZE = 128


def rgb_array(image: Image.Image) -> np.ndarray:
    """Decoded image -> HxWx3 uint8 RGB (grey repeated, alpha dropped)."""
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def batch_from_crops(crops: np.ndarray) -> np.ndarray:
    """(N, 128, 128, 3) uint8 -> (N, 3, 128, 128) float32 in [0, 1]."""
    if crops.ndim != 4 or crops.shape[1:] != (SIZE, SIZE, 3) or crops.dtype != np.uint8:
        raise ValueError(f"expected (N, {SIZE}, {SIZE}, 3) uint8 crops, got {crops.shape} {crops.dtype}")
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


def tiles(rgb: np.ndarray, max_side: int = 3) -> np.ndarray:
    """A grid of up to max_side x max_side native-resolution 128x128 tiles spread over the image,
    as a model-ready batch. Sides shorter than 128 are reflect-padded."""
    h, w = rgb.shape[:2]
    if h < SIZE or w < SIZE:
        rgb = np.pad(rgb, ((0, max(0, SIZE - h)), (0, max(0, SIZE - w)), (0, 0)), mode="reflect")
        h, w = rgb.shape[:2]
    ys = np.linspace(0, h - SIZE, min(max_side, math.ceil(h / SIZE))).round().astype(int)
    xs = np.linspace(0, w - SIZE, min(max_side, math.ceil(w / SIZE))).round().astype(int)
    crops = np.stack([rgb[y:y + SIZE, x:x + SIZE] for y in ys for x in xs])
    return batch_from_crops(np.ascontiguousarray(crops))
