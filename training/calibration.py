"""What both training scripts share after fitting: data loading, Platt calibration on the validation
split, ONNX export, the validation threshold, and the first version of the card."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from training import cards, eval_core
from training.models import export_onnx

TARGET_FPR = 0.01


def to_tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)


def platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Scale and shift that turn validation logits into calibrated probabilities."""
    lr = LogisticRegression(C=1e4).fit(logits.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def threshold_at_fpr(p: np.ndarray, y: np.ndarray, target: float = TARGET_FPR) -> dict:
    """The lowest probability threshold whose validation false-positive rate is at most `target`."""
    genuine = np.sort(p[y == 0])[::-1]
    allowed = int(np.floor(target * len(genuine)))
    t = float(np.nextafter(genuine[allowed], np.inf)) if allowed < len(genuine) else 0.0
    t = max(t, 1e-6)
    return {"threshold": round(t, 6), "val_fpr": round(float((p[y == 0] >= t).mean()), 4),
            "val_tpr": round(float((p[y == 1] >= t).mean()), 4),
            "val_n_genuine": int((y == 0).sum()), "val_n_synthetic": int((y == 1).sum())}


def finish(model: torch.nn.Module, model_dir: Path, val_logits: np.ndarray, val: dict, **card) -> None:
    """Calibrate, export, pick the threshold from the exported graph, and write card.json."""
    a, b = platt(val_logits, val["y"])
    model.platt.copy_(torch.tensor([a, b]))
    model_dir.mkdir(parents=True, exist_ok=True)
    export_onnx(model, model_dir / "model.onnx")
    session, _ = eval_core.open_model_file(model_dir / "model.onnx")
    p_val = eval_core.predict(session, val["x"])
    chosen = threshold_at_fpr(p_val, val["y"])
    selection = {"method": f"lowest threshold with false-positive rate <= {TARGET_FPR:.0%} on the validation "
                           "split (scenes coffee, camera, gravel; trained families only), applied to the "
                           "calibrated probability", "platt_scale": round(a, 5), "platt_shift": round(b, 5),
                 **chosen, "val_metrics": eval_core.metrics(val["y"], p_val)}
    doc = cards.new_card(threshold=chosen["threshold"], threshold_selection=selection, **card)
    (model_dir / "card.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{model_dir.name}: platt=({a:.3f},{b:.3f}) threshold={chosen}")
