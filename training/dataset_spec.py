"""What the dataset is, as constants and a loader that need only numpy: shared by the dataset builder,
the trainers and the evaluation (which must also run in the runtime virtualenv)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20240604
OUT = Path(__file__).resolve().parent / "out"
FAMILIES = ("genuine", "upsample_nearest", "upsample_bilinear", "transposed_conv", "splice_alpha",
            "upsample_bicubic", "splice_poisson")
HELD_OUT = ("upsample_bicubic", "splice_poisson")  # never in train or val: threshold is blind to them
PER_SOURCE = {  # genuine crops, then crops per manipulation family, for each source of the split
    "train": (400, 100), "val": (200, 50), "test": (150, 50)}
TRAIN_JPEG_SHARE, TRAIN_JPEG_QUALITY = 0.25, (60, 95)
TEST_JPEG_QUALITIES = (90, 75, 50)


def families_of(split: str) -> tuple[str, ...]:
    return tuple(f for f in FAMILIES[1:] if split == "test" or f not in HELD_OUT)


def load_split(name: str) -> dict[str, np.ndarray]:
    with np.load(OUT / f"{name}.npz") as data:
        return {k: data[k] for k in data.files}
