"""The shipped detection models match their cards: fields present, the ONNX graph's input and output
are the ones the card states, and the committed eval sample still scores what the card says."""
from __future__ import annotations

import json

import numpy as np
import pytest

from training import eval_core

MODEL_DIRS = eval_core.model_dirs()
AUC_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def eval_sample():
    return eval_core.load_eval_sample()


def test_at_least_a_spectrum_model_and_a_cnn_are_shipped():
    names = {d.name for d in MODEL_DIRS}
    assert {"spectrum_mlp", "artifact_cnn"} <= names


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.name)
def test_card_has_every_required_field(model_dir):
    card = json.loads((model_dir / "card.json").read_text())
    assert set(eval_core.CARD_FIELDS) <= set(card)
    assert card["name"] == model_dir.name
    assert card["inputs"]["layout"] == "NCHW" and card["inputs"]["channel_order"] == "RGB"
    assert card["synthetic_output"]["kind"] in {"probability", "logit"}
    assert 0.0 < card["threshold"] < 1.0
    assert card["limits"] and all(isinstance(line, str) for line in card["limits"])
    assert card["training_data"]["held_out_families"]
    for set_name in ("test:all", "test:held_out", "test_jpeg75:all", "eval_sample"):
        assert set(eval_core.METRIC_FIELDS) <= set(card["metrics"][set_name]), set_name
    assert (model_dir / "CARD.md").read_text().startswith(f"# {card['name']}")


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.name)
def test_onnx_graph_takes_the_card_input_and_returns_one_probability_per_image(model_dir):
    session, card = eval_core.open_model(model_dir)
    (graph_input,), (graph_output,) = session.get_inputs(), session.get_outputs()
    assert graph_input.name == card["inputs"]["name"]
    assert graph_input.shape[1:] == card["inputs"]["shape"][1:]
    assert graph_output.name == card["synthetic_output"]["name"]
    crops = np.random.default_rng(0).integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    p = eval_core.predict(session, crops)
    assert p.shape == (3,) and np.all((p >= 0) & (p <= 1))


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.name)
def test_eval_sample_auc_is_no_more_than_005_below_the_card(model_dir, eval_sample):
    session, card = eval_core.open_model(model_dir)
    crops, labels, _ = eval_sample
    got = eval_core.metrics(labels, eval_core.predict(session, crops))
    want = card["metrics"]["eval_sample"]
    assert got["n"] == want["n"]
    assert got["auc"] >= want["auc"] - AUC_TOLERANCE, f"{card['name']}: AUC {got['auc']} vs card {want['auc']}"


def test_metrics_separate_perfect_random_and_inverted_scores():
    y = np.array([0, 0, 0, 1, 1, 1])
    assert eval_core.metrics(y, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))["auc"] == 1.0
    assert eval_core.metrics(y, np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1]))["auc"] == 0.0
    tied = eval_core.metrics(y, np.full(6, 0.5))
    assert tied["auc"] == 0.5 and tied["eer"] == 0.5 and tied["brier"] == 0.25
