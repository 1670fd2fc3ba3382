"""Evaluation with onnxruntime alone (numpy, Pillow, onnxruntime; no torch, no scikit-learn), so the
runtime test suite can re-run the card numbers on the committed eval sample.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from training.preprocess import batch_from_crops

REPO = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO / "data" / "models"
EVAL_SAMPLE_DIR = MODELS_DIR / "eval_sample"
CARD_FIELDS = ("name", "version", "inputs", "synthetic_output", "threshold", "training_data", "metrics",
               "limits")
METRIC_FIELDS = ("auc", "eer", "tpr_at_1pct_fpr", "brier", "n")


def open_model_file(path: Path) -> tuple[ort.InferenceSession, None]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), None


def open_model(model_dir: Path) -> tuple[ort.InferenceSession, dict]:
    card = json.loads((Path(model_dir) / "card.json").read_text())
    return open_model_file(Path(model_dir) / "model.onnx")[0], card


def predict(session: ort.InferenceSession, crops: np.ndarray, batch: int = 64) -> np.ndarray:
    """P(synthetic) for (N, 128, 128, 3) uint8 crops, as float64 (N,)."""
    name = session.get_inputs()[0].name
    out = [session.run(None, {name: batch_from_crops(crops[i:i + batch])})[0].reshape(-1)
           for i in range(0, len(crops), batch)]
    return np.concatenate(out).astype(np.float64)


def roc(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR at every distinct threshold, flagging p >= threshold."""
    order = np.argsort(-p, kind="mergesort")
    p, y = p[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(p))[0], len(p) - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = np.cumsum(1 - y)[last_of_tie]
    return np.r_[0.0, fp / max(1, fp[-1])], np.r_[0.0, tp / max(1, tp[-1])]


def metrics(y, p) -> dict:
    """auc, eer, tpr_at_1pct_fpr, brier and n, rounded to 4 places."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    fpr, tpr = roc(y, p)
    auc = float(np.trapezoid(tpr, fpr))
    fnr = 1.0 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    eer = float((fpr[i] + fnr[i]) / 2)
    tpr_1 = float(tpr[fpr <= 0.01].max())
    brier = float(np.mean((p - y) ** 2))
    return {"auc": round(auc, 4), "eer": round(eer, 4), "tpr_at_1pct_fpr": round(tpr_1, 4),
            "brier": round(brier, 4), "n": int(len(y)), "n_synthetic": int(y.sum())}


def load_eval_sample(sample_dir: Path = EVAL_SAMPLE_DIR, sample: int | None = None):
    """Crops, labels and rows of the committed sample; `sample` keeps an evenly spread subset."""
    rows = json.loads((Path(sample_dir) / "labels.json").read_text())["samples"]
    if sample is not None and sample < len(rows):
        rows = [rows[i] for i in np.linspace(0, len(rows) - 1, sample).round().astype(int)]
    crops = np.stack([np.asarray(Image.open(Path(sample_dir) / r["file"]).convert("RGB")) for r in rows])
    return crops, np.array([r["label"] for r in rows]), rows


def evaluate_eval_sample(model_dir: Path, sample_dir: Path = EVAL_SAMPLE_DIR, sample: int | None = None) -> dict:
    session, _ = open_model(model_dir)
    crops, labels, _ = load_eval_sample(sample_dir, sample)
    return metrics(labels, predict(session, crops))


def model_dirs(models_dir: Path = MODELS_DIR) -> list[Path]:
    return sorted(p for p in Path(models_dir).iterdir() if (p / "card.json").exists())
