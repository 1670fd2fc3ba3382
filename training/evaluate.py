"""Compute every card metric from the exported ONNX files with onnxruntime, write them into each
card.json and re-render CARD.md.

    python -m training.evaluate                # full test split + JPEG variants + eval sample; writes cards
    python -m training.evaluate --sample 200   # quick: committed eval sample only, compared with the cards
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from training import cards, eval_core
from training.dataset_spec import FAMILIES, HELD_OUT, TEST_JPEG_QUALITIES, load_split

PER_FAMILY_JPEG = 75
NOTES = [
    "test:<family> = that family's synthetic crops against all genuine test crops; scenes astronaut, coins, "
    "rocket and grass were never seen in training or threshold selection.",
    f"held_out = {', '.join(HELD_OUT)}: families absent from training and validation.",
    "test_jpeg<q> = the whole test split re-encoded as JPEG at quality q (both classes).",
    "eval_sample = the committed data/models/eval_sample (PNG, no LFW-derived images), re-run by "
    "tests/integration/test_model_cards.py; small n, so its numbers move more than the others.",
]


def metric_sets(split: dict, p: np.ndarray, prefix: str, per_family: bool) -> dict:
    y, fam = split["y"], split["family"]
    genuine = fam == "genuine"
    out = {f"{prefix}:all": eval_core.metrics(y, p)}
    groups = {"trained": [f for f in FAMILIES[1:] if f not in HELD_OUT], "held_out": list(HELD_OUT)}
    for group, members in groups.items():
        keep = genuine | np.isin(fam, members)
        out[f"{prefix}:{group}"] = eval_core.metrics(y[keep], p[keep])
    if per_family:
        for f in FAMILIES[1:]:
            keep = genuine | (fam == f)
            out[f"{prefix}:{f}"] = eval_core.metrics(y[keep], p[keep])
    return out


def at_threshold(split: dict, p: np.ndarray, threshold: float) -> dict:
    """The card threshold's real operating point on the test scenes, overall and per scene."""
    flagged, genuine = p >= threshold, split["family"] == "genuine"
    by_scene = {str(s): round(float(flagged[genuine & (split["source"] == s)].mean()), 4)
                for s in np.unique(split["source"])}
    by_family = {str(f): round(float(flagged[split["family"] == f].mean()), 4) for f in FAMILIES[1:]}
    return {"threshold": threshold, "fpr": round(float(flagged[genuine].mean()), 4),
            "tpr": round(float(flagged[~genuine].mean()), 4), "fpr_by_scene": by_scene,
            "tpr_by_family": by_family}


def full_metrics(model_dir: Path) -> tuple[dict, dict]:
    """(metrics: one object per evaluation set, operating point at the card's threshold)."""
    session, card = eval_core.open_model(model_dir)
    result, operating_point = {}, {}
    for name, per_family in [("test", True)] + [(f"test_jpeg{q}", q == PER_FAMILY_JPEG) for q in TEST_JPEG_QUALITIES]:
        split = load_split(name)
        p = eval_core.predict(session, split["x"])
        result.update(metric_sets(split, p, name, per_family))
        if name == "test":
            operating_point = at_threshold(split, p, card["threshold"])
    result["eval_sample"] = eval_core.evaluate_eval_sample(model_dir)
    return result, operating_point


def measured_weaknesses(metrics: dict, op: dict) -> list[str]:
    """Plain sentences for every evaluation set where the model is weak, straight from the numbers."""
    lines = [f"At the card threshold ({op['threshold']}) on the test scenes: false-positive rate {op['fpr']:.1%} "
             f"(target was 1% on validation; by scene: "
             + ", ".join(f"{k} {v:.1%}" for k, v in op["fpr_by_scene"].items())
             + f"), synthetic crops caught {op['tpr']:.1%}."]
    for name, m in metrics.items():
        shown = name.startswith("test:") and name != "test:all" or name == "test_jpeg50:all"
        if shown and (m["auc"] < 0.85 or m["tpr_at_1pct_fpr"] < 0.3):
            lines.append(f"Weak on {name}: AUC {m['auc']:.3f}, catches {m['tpr_at_1pct_fpr']:.0%} of synthetic "
                         "crops at 1% false positives.")
    return lines


def write_card(model_dir: Path, metrics: dict, operating_point: dict) -> None:
    card = json.loads((model_dir / "card.json").read_text())
    card["metrics"] = metrics
    card["operating_point"] = operating_point
    card["metrics_notes"] = NOTES
    card["limits_measured"] = measured_weaknesses(metrics, operating_point)
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (model_dir / "CARD.md").write_text(cards.render_markdown(card))


def quick_check(sample: int) -> int:
    """Evaluate the committed sample and compare with each card's eval_sample AUC."""
    failed = 0
    for model_dir in eval_core.model_dirs():
        card = json.loads((model_dir / "card.json").read_text())
        got = eval_core.evaluate_eval_sample(model_dir, sample=sample)
        want = card["metrics"]["eval_sample"]["auc"]
        ok = got["auc"] >= want - 0.05
        failed += not ok
        print(f"{card['name']}: eval_sample n={got['n']} auc={got['auc']} (card {want}) {'ok' if ok else 'DROPPED'}")
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="evaluate only N images of the committed eval sample")
    args = parser.parse_args()
    if args.sample:
        sys.exit(quick_check(args.sample))
    for model_dir in eval_core.model_dirs():
        started = time.time()
        metrics, operating_point = full_metrics(model_dir)
        write_card(model_dir, metrics, operating_point)
        print(f"\n{model_dir.name} ({time.time() - started:.0f}s) at threshold: {operating_point}")
        for name, m in metrics.items():
            if isinstance(m, dict) and "auc" in m:
                print(f"  {name:32s} n={m['n']:5d} auc={m['auc']:.3f} eer={m['eer']:.3f} "
                      f"tpr@1%={m['tpr_at_1pct_fpr']:.3f} brier={m['brier']:.3f}")


if __name__ == "__main__":
    main()
