"""The model registry refuses what it cannot use, with a message saying why, and runs what it can."""
import io
import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from core.settings import PROJECT_ROOT
from core.verification.corpus import genuine_photo
from core.verification.onnx_models import DEFAULT_MODELS_DIR, LoadedModel, ModelError, discover, read_card
from core.verification.setup import engine_config

MODEL = DEFAULT_MODELS_DIR / "spectrum_mlp"


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "models" / "candidate"
    shutil.copytree(MODEL, folder)
    return folder


def edit_card(folder, change):
    card = json.loads((folder / "card.json").read_text())
    change(card)
    (folder / "card.json").write_text(json.dumps(card))


def test_shipped_models_load_and_validate():
    cards, refused = discover()
    assert {c.name for c in cards} >= {"spectrum_mlp", "artifact_cnn"} and refused == {}
    for card in cards:
        LoadedModel(card)  # signature check and smoke inference


def test_a_model_whose_input_shape_disagrees_with_its_card_is_refused(model_copy):
    edit_card(model_copy, lambda c: c["inputs"].update(size=[64, 64]))
    with pytest.raises(ModelError, match="input shape"):
        LoadedModel(read_card(model_copy))


@pytest.mark.parametrize("field", ["threshold", "synthetic_output", "metrics", "limits"])
def test_a_card_with_a_missing_field_is_refused_naming_it(model_copy, field):
    edit_card(model_copy, lambda c: c.pop(field))
    with pytest.raises(ModelError, match=f"lacks required fields: {field}"):
        read_card(model_copy)


def test_a_metrics_set_without_its_numbers_is_refused(model_copy):
    edit_card(model_copy, lambda c: c["metrics"]["test:all"].pop("brier"))
    with pytest.raises(ModelError, match="test:all.*brier"):
        read_card(model_copy)


def test_a_file_that_is_not_onnx_is_refused(model_copy):
    (model_copy / "model.onnx").write_bytes(b"this is a spreadsheet, honest")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        LoadedModel(read_card(model_copy))


def test_refused_models_are_reported_and_the_rest_still_load(model_copy):
    shutil.copytree(model_copy, model_copy.parent / "broken")
    edit_card(model_copy.parent / "broken", lambda c: c.pop("version"))
    cards, refused = discover(model_copy.parent)
    assert [c.name for c in cards] == ["spectrum_mlp"] and "version" in refused["broken"]


def test_admins_can_disable_and_rethreshold_models():
    config = engine_config({"spectrum_mlp": {"threshold": 0.5}, "c2pa": {"enabled": False}})
    assert config.detectors["spectrum_mlp"].thresholds == {"medium": 0.5}
    assert not config.detectors["c2pa"].enabled
    assert not engine_config().detectors["artifact_cnn"].enabled  # off by default: see its card


def test_scan_shows_model_scores_versions_and_explanations(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    for n in range(2):
        photo = Image.open(io.BytesIO(genuine_photo(n, size=(512, 384))))
        photo.save(folder / f"genuine_{n}.png")
        photo.resize((128, 96), Image.BILINEAR).resize((512, 384), Image.NEAREST).save(folder / f"upsampled_{n}.png")
    out = subprocess.run([sys.executable, "-m", "core", "scan", "--json", "--explanations", str(tmp_path / "expl"),
                          str(folder)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    reports = {r["path"].rsplit("/", 1)[1]: r for r in json.loads(out.stdout)}
    for name, report in reports.items():
        model = next(s for s in report["signals"] if s["name"] == "spectrum_mlp")
        assert model["version"] == read_card(MODEL).version and 0 <= model["score"] <= 1
        if name.startswith("upsampled"):
            assert report["risk"] == "medium" and model["label"] == "synthetic"
        else:
            assert report["risk"] == "low" and model["label"] == "no_trace_found"
    assert len(list((tmp_path / "expl").glob("spectrum_mlp-*.png"))) == 2
