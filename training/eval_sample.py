"""The small committed evaluation sample: a stratified, deterministic subset of the test split.

Pixels are stored losslessly as PNG (grey scenes as 8-bit grey, read back as RGB), so the runtime test
sees exactly the arrays the card's `eval_sample` numbers were computed on. Samples spliced with an
LFW face are left out: that subset states no licence, so none of it is committed.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "data" / "models" / "eval_sample"
PER_FAMILY, GENUINE, JPEG_QUALITY, JPEG_EACH = 16, 64, 75, 24
SEED = 7


def _pick(rows: list[dict], n: int, rng: np.random.Generator) -> list[int]:
    """n indices spread evenly over the sources present in rows."""
    by_source: dict[str, list[int]] = {}
    for i, r in rows:
        by_source.setdefault(r["source"], []).append(i)
    chosen = []
    for k, src in enumerate(sorted(by_source)):
        want = n // len(by_source) + (1 if k < n % len(by_source) else 0)
        chosen += list(rng.choice(by_source[src], size=want, replace=False))
    return sorted(int(c) for c in chosen)


def _select(samples: list[dict], split: str, family: str | None, n: int, rng) -> list[int]:
    rows = [(i, r) for i, r in enumerate(samples) if r["split"] == split
            and (family is None or r["family"] == family) and r["detail"].get("donor") != "lfw_face"]
    return _pick(rows, n, rng)


def write_eval_sample(samples: list[dict], out: Path) -> None:
    rng = np.random.default_rng(SEED)
    test = [r for r in samples if r["split"] == "test"]
    jpeg = [r for r in samples if r["split"] == f"test_jpeg{JPEG_QUALITY}"]
    families = sorted({r["family"] for r in test} - {"genuine"})
    picks = [("test", i) for i in _select(test, "test", "genuine", GENUINE, rng)]
    for fam in families:
        picks += [("test", i) for i in _select(test, "test", fam, PER_FAMILY, rng)]
    picks += [(f"test_jpeg{JPEG_QUALITY}", i) for i in _select(jpeg, f"test_jpeg{JPEG_QUALITY}", "genuine", JPEG_EACH, rng)]
    fakes = [(i, r) for i, r in enumerate(jpeg) if r["label"] == 1 and r["detail"].get("donor") != "lfw_face"]
    picks += [(f"test_jpeg{JPEG_QUALITY}", i) for i in _pick(fakes, JPEG_EACH, rng)]

    arrays = {s: np.load(out / f"{s}.npz")["x"] for s in {s for s, _ in picks}}
    rows_of = {"test": test, f"test_jpeg{JPEG_QUALITY}": jpeg}
    if SAMPLE_DIR.exists():
        shutil.rmtree(SAMPLE_DIR)
    (SAMPLE_DIR / "images").mkdir(parents=True)
    labels = []
    for split, i in picks:
        r, img = rows_of[split][i], arrays[split][i]
        grey = bool((img[..., 0] == img[..., 1]).all() and (img[..., 0] == img[..., 2]).all())
        name = f"{r['id']}.png"
        Image.fromarray(img[..., 0] if grey else img).save(SAMPLE_DIR / "images" / name, optimize=True)
        labels.append({"file": f"images/{name}", "label": r["label"], "family": r["family"],
                       "source": r["source"], "licence": r["licence"], "jpeg_quality": r["jpeg_quality"]})
    (SAMPLE_DIR / "labels.json").write_text(json.dumps(
        {"description": "Deterministic subset of the held-out test split (scenes never trained on), "
                        "written by training/make_dataset.py. label 1 = synthetic/manipulated.",
         "samples": labels}, indent=1))
    print(f"eval sample: {len(labels)} images in {SAMPLE_DIR}")
