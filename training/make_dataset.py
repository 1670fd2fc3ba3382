"""Build the labelled dataset: genuine 128x128 crops of bundled photographs and the manipulations
this script performs on them. Deterministic: every (split, source, family) draws from its own seed.

    python -m training.make_dataset            # writes training/out/ and data/models/eval_sample/
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from training import manipulations as m
from training.dataset_spec import (
    FAMILIES,
    HELD_OUT,
    OUT,
    PER_SOURCE,
    SEED,
    TEST_JPEG_QUALITIES,
    TRAIN_JPEG_QUALITY,
    TRAIN_JPEG_SHARE,
    families_of,
)
from training.sources import LFW, SOURCES, describe, load_lfw_faces, load_rgb


class SourceCrops:
    """Random genuine crops of one source at native scale or integer box-downscaled."""

    def __init__(self, img: np.ndarray):
        self.levels = [m.box_downscale(img, f) for f in (1, 2, 3, 4)
                       if min(img.shape[:2]) // f >= m.SIZE]

    def crop(self, rng: np.random.Generator) -> np.ndarray:
        level = self.levels[0] if rng.random() < 0.5 else self.levels[int(rng.integers(len(self.levels)))]
        y = int(rng.integers(0, level.shape[0] - m.SIZE + 1))
        x = int(rng.integers(0, level.shape[1] - m.SIZE + 1))
        out = np.rot90(level[y:y + m.SIZE, x:x + m.SIZE], int(rng.integers(4)))
        return np.ascontiguousarray(out[:, ::-1] if rng.random() < 0.5 else out)


def make_sample(family, crops, others, faces, rng):
    host = crops.crop(rng)
    if family == "genuine":
        return host, {}
    if family.startswith("upsample_"):
        return m.resample_up(host, rng, family.split("_", 1)[1])
    if family == "transposed_conv":
        return m.transposed_conv_up(host, rng)
    if rng.random() < 0.5:
        donor, detail = m.face_donor(faces[int(rng.integers(len(faces)))], host, rng)
    else:
        donor, detail = m.scene_donor(others[int(rng.integers(len(others)))].crop(rng), rng)
    out, blend = m.splice(host, donor, rng, family.split("_", 1)[1])
    return out, {**detail, **blend}


def build_split(split: str, split_idx: int, faces_all: np.ndarray):
    sources = [(i, s) for i, s in enumerate(SOURCES) if s.split == split]
    crops = {s.name: SourceCrops(load_rgb(s.name)) for _, s in sources}
    faces = faces_all[[i for i in range(len(faces_all)) if LFW["split_of_index"](i) == split]]
    n_gen, n_fake = PER_SOURCE[split]
    xs, rows = [], []
    for src_idx, src in sources:
        others = [crops[o.name] for _, o in sources if o.name != src.name]
        for fam in ("genuine",) + families_of(split):
            rng = np.random.default_rng([SEED, split_idx, src_idx, FAMILIES.index(fam)])
            for k in range(n_gen if fam == "genuine" else n_fake):
                img, detail = make_sample(fam, crops[src.name], others, faces, rng)
                quality = 0
                if split != "test" and rng.random() < TRAIN_JPEG_SHARE:
                    quality = int(rng.integers(TRAIN_JPEG_QUALITY[0], TRAIN_JPEG_QUALITY[1] + 1))
                    img = m.jpeg(img, quality)
                xs.append(img)
                rows.append({"id": f"{split}-{src.name}-{fam}-{k:04d}", "split": split, "source": src.name,
                             "licence": src.licence, "family": fam, "label": int(fam != "genuine"),
                             "jpeg_quality": quality, "detail": detail})
    return np.stack(xs), rows


def save_split(name: str, x: np.ndarray, rows: list[dict]) -> None:
    np.savez(OUT / f"{name}.npz", x=x, y=np.array([r["label"] for r in rows], np.int8),
             family=np.array([r["family"] for r in rows]), source=np.array([r["source"] for r in rows]),
             jpeg=np.array([r["jpeg_quality"] for r in rows], np.int16), id=np.array([r["id"] for r in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-eval-sample", action="store_true", help="do not rewrite data/models/eval_sample")
    args = parser.parse_args()
    started = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    faces = load_lfw_faces()
    manifest = {"seed": SEED, "size": m.SIZE, "families": FAMILIES, "held_out_families": HELD_OUT,
                "sources": describe(), "splits": {}, "samples": []}
    for split_idx, split in enumerate(("train", "val", "test")):
        x, rows = build_split(split, split_idx, faces)
        save_split(split, x, rows)
        manifest["samples"] += rows
        manifest["splits"][split] = {f: sum(r["family"] == f for r in rows) for f in FAMILIES}
        if split == "test":
            for q in TEST_JPEG_QUALITIES:
                jrows = [{**r, "id": f"{r['id']}-q{q}", "split": f"test_jpeg{q}", "jpeg_quality": q} for r in rows]
                save_split(f"test_jpeg{q}", np.stack([m.jpeg(img, q) for img in x]), jrows)
                manifest["samples"] += jrows
                manifest["splits"][f"test_jpeg{q}"] = manifest["splits"]["test"]
        print(f"{split}: {len(rows)} samples {manifest['splits'][split]}", flush=True)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if not args.no_eval_sample:
        from training.eval_sample import write_eval_sample

        write_eval_sample(manifest["samples"], OUT)
    print(f"dataset written to {OUT} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
