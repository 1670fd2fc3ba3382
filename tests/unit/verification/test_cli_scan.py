"""`python -m core scan`: JSON shape and exit codes."""
from __future__ import annotations

import json

import pytest

from core.entrypoints.cli import main
from core.verification.corpus import genuine_photo, metadata_samples


@pytest.fixture(autouse=True)
def no_database(tmp_path, monkeypatch):
    """No installation database: the scan says it uses an empty hash bank."""
    from core import bootstrap, settings

    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "absent" / "x.db"))
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path / "var"))
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()
    yield
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()


def test_scan_json_reports_every_file_and_exits_1_when_any_is_high(tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(genuine_photo(1, (96, 72)))
    sd = metadata_samples(3)[0]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / sd.name).write_bytes(sd.data)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["scan", str(tmp_path), "--json"]) == 1
    captured = capsys.readouterr()
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(captured.out)}
    assert {n: r["risk"] for n, r in rows.items()} == {"photo.jpg": "low", sd.name: "high",
                                                      "broken.png": "unscannable"}
    assert rows["broken.png"]["unscannable_reason"].startswith("the PNG is truncated")
    # the built-in families, and every model enabled by default (data/models)
    assert {s["name"] for s in rows["photo.jpg"]["signals"]} == {"hash", "c2pa", "generator_metadata", "spectrum_mlp"}
    assert set(rows["photo.jpg"]["signals"][0]) == {"name", "version", "score", "label", "evidence"}
    assert "empty hash bank" in captured.err


def test_scan_exits_0_for_low_files_and_2_for_usage_errors(tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(genuine_photo(2, (96, 72)))
    assert main(["scan", str(tmp_path / "photo.jpg")]) == 0
    assert "low" in capsys.readouterr().out
    assert main(["scan", str(tmp_path / "missing.jpg")]) == 2
