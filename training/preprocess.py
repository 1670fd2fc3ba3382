"""Reference preprocessing for every model in data/models/: numpy and Pillow, plus the runtime's tile
grid, so another runtime can copy it exactly. Both shipped models take NCHW float32 RGB in [0, 1], 128x128, and do their own
normalisation inside the graph.

Never resize an image before scoring: resampling erases (or creates) the very traces the models
read. Score native-resolution 128x128 tiles instead.
"""
from __future__ import annotations

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
    as a model-ready batch. Sides shorter than 128 are reflect-padded. The grid is the runtime's own
    (core/verification/onnx_models.py `tile_grid`), so training, evaluation and scanning cannot drift."""
    from core.verification.onnx_models import tile_grid

    return batch_from_crops(tile_grid(rgb, (SIZE, SIZE), max_side)[0])
