"""card.json content shared by the models, and CARD.md rendered from card.json so the two never differ."""
from __future__ import annotations

import json

from training.dataset_spec import OUT, TEST_JPEG_QUALITIES, TRAIN_JPEG_QUALITY, TRAIN_JPEG_SHARE

INPUTS = {
    "name": "image", "shape": ["batch", 3, 128, 128], "layout": "NCHW", "dtype": "float32",
    "channel_order": "RGB", "size": [128, 128], "value_range": [0.0, 1.0],
    "normalisation": "pixel / 255 from 8-bit RGB; no mean or std subtraction (the graph normalises itself)",
    "resize_policy": "Never resize: score native-resolution 128x128 tiles (training/preprocess.py `tiles`, "
                     "up to a 3x3 grid, reflect-padding sides under 128). Card metrics are per 128x128 crop; "
                     "suggested image score is the mean tile probability, with the worst tile as evidence.",
    "reference_preprocessing": "training/preprocess.py",
}
SYNTHETIC_OUTPUT = {"name": "p_synthetic", "index": 0, "shape": ["batch", 1], "kind": "probability",
                    "meaning": "calibrated probability (Platt scaling on the validation split) that the crop is "
                               "synthetic or manipulated; flag when >= threshold"}
COMMON_LIMITS = [
    "Trained only on crops of 8 scikit-image sample photographs and on manipulations this repository "
    "performs itself; it was never trained on output of any real-world generator (no GAN, diffusion model, "
    "face-swap app or editing tool) and makes no claim about detecting any specific real-world generator.",
    "Not trained on: bicubic upsampling and Poisson (seamless-clone) splices, held out to measure "
    "generalisation; screenshots, rescaled social-media copies, camera-phone processing, print-and-scan, "
    "text overlays, heavy JPEG below quality 60, or any content type beyond the few scenes listed.",
    "Evaluation covers only 4 held-out scenes (astronaut, coins, rocket, grass): the numbers say how well it "
    "separates these synthetic families on these scenes, not how often it will be right on a firm's files.",
    "Any legitimate resizing (a CRM thumbnail, a phone's upscaled zoom) leaves the same traces as the "
    "upsampling families, so an upscaled genuine photo will be flagged: a flag is a reason for a human to "
    "look, never proof.",
]


def training_data() -> dict:
    manifest = json.loads((OUT / "manifest.json").read_text())
    return {
        "generator": f"training/make_dataset.py (seed {manifest['seed']:d})",
        "sources": manifest["sources"], "families": list(manifest["families"]),
        "held_out_families": list(manifest["held_out_families"]),
        "sample_counts": {s: manifest["splits"][s] for s in ("train", "val", "test")},
        "recompression": f"{TRAIN_JPEG_SHARE:.0%} of train and validation samples of both classes re-encoded "
                         f"as JPEG quality {TRAIN_JPEG_QUALITY[0]}-{TRAIN_JPEG_QUALITY[1]}; re-compression is "
                         "treated as laundering, never as a label. Test variants at quality "
                         f"{', '.join(map(str, TEST_JPEG_QUALITIES))}.",
        "split": "by source scene: no scene is in two splits; LFW faces split by index",
    }


def new_card(*, name: str, version: str, description: str, architecture: str, explanation: str,
             limits: list[str], threshold: float, threshold_selection: dict, training_seconds: float) -> dict:
    return {"name": name, "version": version, "description": description, "architecture": architecture,
            "task": "binary image classification: synthetic/manipulated vs genuine",
            "inputs": INPUTS, "synthetic_output": SYNTHETIC_OUTPUT, "threshold": threshold,
            "threshold_selection": threshold_selection, "training_data": training_data(),
            "training_seconds_cpu": round(training_seconds), "explanation": explanation,
            "metrics": {}, "limits": limits + COMMON_LIMITS}


def render_markdown(card: dict) -> str:
    sel = card["threshold_selection"]
    lines = [f"# {card['name']} {card['version']}", "", card["description"], "",
             f"**Architecture.** {card['architecture']}", "",
             f"**Input.** `{card['inputs']['name']}`: {card['inputs']['layout']} {card['inputs']['dtype']} "
             f"{card['inputs']['channel_order']}, 128x128, {card['inputs']['normalisation']}. "
             f"{card['inputs']['resize_policy']}", "",
             f"**Output.** `{card['synthetic_output']['name']}` [batch, 1]: {card['synthetic_output']['meaning']}.",
             "", f"**Threshold.** {card['threshold']} — {sel['method']}. On validation: FPR {sel['val_fpr']}, "
             f"TPR {sel['val_tpr']} (n = {sel['val_n_genuine']} genuine, {sel['val_n_synthetic']} synthetic).", "",
             f"**Explanation.** {card['explanation']}", "",
             "## Metrics (per 128x128 crop, computed by `training/evaluate.py` with onnxruntime)", "",
             "| evaluation set | n | AUC | EER | TPR @ 1% FPR | Brier |", "| --- | --- | --- | --- | --- | --- |"]
    for set_name, m in card["metrics"].items():
        if isinstance(m, dict) and "auc" in m:
            lines.append(f"| {set_name} | {m['n']} | {m['auc']:.3f} | {m['eer']:.3f} | "
                         f"{m['tpr_at_1pct_fpr']:.3f} | {m['brier']:.3f} |")
    notes = card.get("metrics_notes", [])
    lines += [""] + [f"- {n}" for n in notes] + ["", "## Training data", "",
              f"Built by `{card['training_data']['generator']}` from scikit-image's bundled photographs "
              "(licences in card.json and training/README.md). Families trained on: "
              + ", ".join(f for f in card["training_data"]["families"][1:]
                          if f not in card["training_data"]["held_out_families"])
              + ". Held out entirely: " + ", ".join(card["training_data"]["held_out_families"]) + ".", "",
              "## Limits", ""] + [f"- {item}" for item in card["limits"]]
    if card.get("limits_measured"):
        lines += ["", "Measured on the test split (from the table above):", ""]
        lines += [f"- {item}" for item in card["limits_measured"]]
    return "\n".join(lines) + "\n"
