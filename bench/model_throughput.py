"""Model throughput: the whole engine with the registered models against onnxruntime inference alone
on the same preprocessed tiles (the limit), one file at a time and batched.

    .venv/bin/python bench/model_throughput.py [--files 150]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.verification.corpus import genuine_photo
from core.verification.engine import Analyzer, Engine
from core.verification.onnx_models import LoadedModel, discover, tile_grid
from core.verification.setup import engine_config


def corpus(n: int) -> list[tuple[str, bytes]]:
    files = []
    for i in range(n):
        size = [(800, 600), (1280, 960), (1600, 1200)][i % 3]
        img = Image.open(io.BytesIO(genuine_photo(i, size=size)))
        if i % 4 == 0:  # a share of generator-style upsampling
            img = img.resize((size[0] // 4, size[1] // 4), Image.BILINEAR).resize(size, Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, "PNG" if i % 2 else "JPEG", quality=92)
        files.append((f"f{i}.{'png' if i % 2 else 'jpg'}", buf.getvalue()))
    return files


STAGES = {  # profiled function -> stage; the rest of the engine's time is "other"
    ("intake.py", "decode_raster"): "decode (Pillow)",
    ("faces.py", "find_faces"): "face detection (OpenCV cascade)",
    ("onnx_models.py", "predict"): "inference (onnxruntime)",
}


def stage_shares(files: list[tuple[str, bytes]], config) -> dict[str, float]:
    """Where one in-process engine spends its time, by cumulative time of the stage functions."""
    analyzer = Analyzer(config)
    analyzer.analyse(files[0][1], file_name=files[0][0], declared_type=None)
    profile = cProfile.Profile()
    profile.enable()
    for name, data in files:
        analyzer.analyse(data, file_name=name, declared_type=None)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = max(cum for (_, _, fn), (_, _, _, cum, _) in stats.items() if fn == "analyse")
    shares = {stage: sum(cum for (path, _, fn), (_, _, _, cum, _) in stats.items()
                         if path.endswith(suffix) and fn == name) / total
              for (suffix, name), stage in STAGES.items()}
    shares["other (hashes, C2PA, metadata, tiling, overlays)"] = 1 - sum(shares.values())
    return shares


def best_of(rounds: int, fn) -> float:
    return min(fn() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=150)
    args = parser.parse_args()
    files = corpus(args.files)
    config = engine_config()
    models = [LoadedModel(c) for c in discover()[0] if config.detectors[c.name].enabled]
    tiles = [tile_grid(np.asarray(Image.open(io.BytesIO(d)).convert("RGB")), (128, 128))[0] for _, d in files]

    def engine_run() -> float:
        with Engine(config) as engine:
            engine.scan_bytes(files[0][1], file_name=files[0][0])  # child started before timing
            start = time.perf_counter()
            for name, data in files:
                engine.scan_bytes(data, file_name=name)
            return time.perf_counter() - start

    def one_by_one() -> float:
        start = time.perf_counter()
        for batch in tiles:
            for model in models:
                model.predict(batch)
        return time.perf_counter() - start

    def batched() -> float:
        stacked = np.concatenate(tiles)
        start = time.perf_counter()
        for model in models:
            for i in range(0, len(stacked), 64):
                model.predict(stacked[i:i + 64])
        return time.perf_counter() - start

    t_engine, t_single, t_batch = best_of(2, engine_run), best_of(3, one_by_one), best_of(3, batched)
    n = len(files)
    print(f"models: {', '.join(m.card.name for m in models)}; {n} files, {sum(len(t) for t in tiles)} tiles")
    print(f"whole engine (decode, hashes, C2PA, metadata, faces, models): {n / t_engine:7.1f} files/s")
    print(f"onnxruntime alone, one file at a time:                         {n / t_single:7.1f} files/s")
    print(f"onnxruntime alone, batches of 64 tiles:                        {n / t_batch:7.1f} files/s")
    print("where the engine's time goes (in-process profile):")
    for stage, share in stage_shares(files[: min(n, 60)], config).items():
        print(f"  {stage:52s} {share:6.1%}")
    print(f"pipeline_vs_inference_ratio={(n / t_engine) / (n / t_single):.3f}")


if __name__ == "__main__":
    main()
