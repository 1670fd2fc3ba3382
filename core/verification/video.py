"""Video intake: sample frames spread over an MP4, MOV or WebM clip and hand them to the detectors
as ordinary images. Runs in the sandboxed child like every decoder: a hostile clip that crashes
or exhausts the decoder costs one file (unscannable), never the scanner."""
from __future__ import annotations

import os
import tempfile

import numpy as np
from PIL import Image

from core.verification.config import EngineConfig


def intake_video(data: bytes, kind: str, *, config: EngineConfig):
    import cv2

    from core.verification.intake import KINDS, CanonicalImage, DecodedMedia, Unscannable, check_dimensions

    fd, path = tempfile.mkstemp(suffix=".webm" if kind == "webm" else ".mp4")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        capture = cv2.VideoCapture(path)
        try:
            if not capture.isOpened():
                raise Unscannable(f"{KINDS[kind].label} that the decoder cannot open (damaged or not a video)")
            width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            check_dimensions(width, height, config=config, where="the video")
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            fps = float(capture.get(cv2.CAP_PROP_FPS) or 0)
            if fps > 0 and count / fps > config.max_video_seconds:
                raise Unscannable(f"the video lasts {count / fps:.0f} s; the limit is {config.max_video_seconds:.0f} s")
            frames = _sample(capture, count, config.video_sample_frames)
        finally:
            capture.release()
    finally:
        os.unlink(path)
    if not frames:
        raise Unscannable(f"{KINDS[kind].label} without a decodable frame (damaged or truncated)")
    images = [CanonicalImage(Image.fromarray(rgb), f"frame {index} of {count or '?'}") for index, rgb in frames]
    return DecodedMedia(kind=kind, pil_format=kind.upper(), width=width, height=height, frames=count,
                        images=images, notes=[f"{len(images)} of {count or '?'} frames sampled"
                                              + (f" over {count / fps:.1f} s" if fps else "")])


def _sample(capture, count: int, wanted: int) -> list[tuple[int, np.ndarray]]:
    import cv2

    if count > 0:
        positions = sorted({int(round(p)) for p in np.linspace(0, max(0, count - 1), min(wanted, count))})
    else:  # no frame count in the container: read the first frames in order
        positions = list(range(wanted))
    frames = []
    for position in positions:
        if count > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, position)
        ok, bgr = capture.read()
        if ok and bgr is not None and bgr.ndim == 3:
            frames.append((position, np.ascontiguousarray(bgr[..., ::-1])))
    return frames
