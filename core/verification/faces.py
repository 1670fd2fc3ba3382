"""Faces in selfies and ID photos, found with OpenCV's bundled Haar cascade (shipped inside the
opencv-python-headless package; nothing is downloaded). Boxes are in the image's own pixels."""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _cascade():
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's frontal-face cascade could not be loaded")
    return cascade


def find_faces(image, max_faces: int = 4) -> list[dict]:
    """Largest faces first: [{"x", "y", "w", "h"}] in full-resolution pixels."""
    import cv2

    small = image.small
    scale = image.size[0] / small.size[0]
    grey = cv2.cvtColor(np.asarray(small.convert("RGB")), cv2.COLOR_RGB2GRAY)
    side = max(24, min(grey.shape) // 10)
    found = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    boxes = sorted((tuple(int(v * scale) for v in box) for box in found), key=lambda b: -b[2] * b[3])
    return [{"x": x, "y": y, "w": w, "h": h} for x, y, w, h in boxes[:max_faces]]
