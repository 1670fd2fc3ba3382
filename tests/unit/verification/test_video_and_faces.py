"""Video clips are sampled frame by frame and scored; faces are found and scored on their own."""
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from core.settings import PROJECT_ROOT
from core.verification.engine import Engine
from core.verification.setup import engine_config


def clip(path: Path, frames: int = 30, size=(320, 240), blocky: bool = False) -> bytes:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    rng = np.random.default_rng(3)
    for _ in range(frames):
        frame = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        if blocky:  # nearest-neighbour upsampling: the trace the spectrum model was trained on
            small = rng.integers(0, 255, (size[1] // 4, size[0] // 4, 3), dtype=np.uint8)
            frame = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
        writer.write(frame)
    writer.release()
    return path.read_bytes()


@pytest.fixture(scope="module")
def engine():
    with Engine(engine_config()) as e:
        yield e


def model_signal(outcome):
    return next(s for s in outcome.signals if s.name == "spectrum_mlp")


def test_a_clip_is_sampled_scored_and_aggregated(engine, tmp_path):
    outcome = engine.scan_bytes(clip(tmp_path / "a.mp4"), file_name="selfie-video.mp4", declared_type="video/mp4")
    assert outcome.risk.value != "unscannable", outcome.unscannable_reason
    evidence = model_signal(outcome).evidence
    assert evidence["frames_scored"] == 8
    assert {"max", "mean", "share_over_threshold"} <= set(evidence) and len(evidence["worst_frames"]) == 3
    assert evidence["max"] >= evidence["mean"]


def test_an_upsampled_clip_scores_higher_than_a_noisy_one(engine, tmp_path):
    noisy = model_signal(engine.scan_bytes(clip(tmp_path / "n.mp4"), file_name="n.mp4")).score
    blocky = model_signal(engine.scan_bytes(clip(tmp_path / "b.mp4", blocky=True), file_name="b.mp4")).score
    assert blocky > noisy


@pytest.mark.parametrize("data,why", [
    (lambda d: d[: len(d) // 3], "cannot open"),
    (lambda d: b"\x00\x00\x00\x18ftypmp42" + bytes(4000), "cannot open"),
    (lambda d: b"\x1a\x45\xdf\xa3" + bytes(3000), "WebM"),
])
def test_broken_or_hostile_clips_are_unscannable_with_a_reason(engine, tmp_path, data, why):
    name = "x.webm" if why == "WebM" else "x.mp4"
    outcome = engine.scan_bytes(data(clip(tmp_path / "c.mp4")), file_name=name)
    assert outcome.risk.value == "unscannable" and why in outcome.unscannable_reason


def test_faces_are_found_and_scored_with_their_boxes(engine):
    """A real portrait (NASA, public domain; tests/data/README.md): the face box lands on the face,
    in the original's pixels, and the crop gets its own score beside the whole image's."""
    data = (PROJECT_ROOT / "tests" / "data" / "astronaut.jpg").read_bytes()
    signal = model_signal(engine.scan_bytes(data, file_name="selfie.jpg"))
    faces = signal.evidence["faces"]
    assert len(faces) == 1, faces
    face = faces[0]
    assert {"x", "y", "w", "h", "score"} <= set(face) and 0 <= face["score"] <= 1
    centre = (face["x"] + face["w"] / 2, face["y"] + face["h"] / 2)
    assert abs(centre[0] - 224) < 30 and abs(centre[1] - 113) < 30 and 70 < face["w"] < 130


def test_face_boxes_are_in_the_originals_pixels_at_any_size(engine):
    """Found on a reduced copy, reported at full resolution: a 2x upscale doubles the box."""
    small = (PROJECT_ROOT / "tests" / "data" / "astronaut.jpg").read_bytes()
    big = io.BytesIO()
    Image.open(io.BytesIO(small)).resize((1024, 1024), Image.LANCZOS).save(big, "JPEG", quality=90)
    [face] = model_signal(engine.scan_bytes(big.getvalue(), file_name="selfie.jpg")).evidence["faces"]
    assert abs(face["x"] + face["w"] / 2 - 448) < 60 and 140 < face["w"] < 260
