"""The media store: files named by SHA-256, kept once, owner-only whatever the umask, never half
written; a stream past its limit leaves nothing. And the one size limit every entry point derives from."""
from __future__ import annotations

import hashlib
import logging
import os
import tomllib

import pytest

from core.adapters.media import MediaStore, TooLarge
from core.settings import PROJECT_ROOT
from core.verification.config import EngineConfig
from tests.conftest import mode


def test_a_file_is_named_by_its_hash_and_owner_only(tmp_path, open_umask):
    store = MediaStore(tmp_path / "var" / "media")
    stored = store.put(b"passport scan")
    assert stored.sha256 == hashlib.sha256(b"passport scan").hexdigest() and stored.size == 13
    assert stored.path == store.path_for(stored.sha256) and stored.path.read_bytes() == b"passport scan"
    assert mode(stored.path) == 0o600
    assert {mode(p) for p in (stored.path.parent, store.root, store.root / ".incoming")} == {0o700}


def test_the_same_bytes_are_kept_once_and_the_first_copy_stays(tmp_path):
    store = MediaStore(tmp_path)
    first = store.put(b"same bytes")
    inode = first.path.stat().st_ino
    assert store.put(b"same bytes") == first and first.path.stat().st_ino == inode
    assert [p for p in store.root.rglob("*") if p.is_file()] == [first.path]


def test_a_stream_past_its_limit_leaves_nothing_behind(tmp_path):
    store = MediaStore(tmp_path)
    with pytest.raises(TooLarge, match="larger than the"), store.receive(max_bytes=10) as incoming:
        incoming.write(b"123456")
        incoming.write(b"7890X")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_a_download_written_to_the_incoming_path_is_kept_under_its_hash(tmp_path):
    store = MediaStore(tmp_path)
    with store.receive() as incoming:
        incoming.path.write_bytes(b"from the org")  # what a downloader does with the path
        stored = store.keep(incoming, hashlib.sha256(b"from the org").hexdigest())
    assert stored.path.read_bytes() == b"from the org" and stored.size == 12
    assert list((store.root / ".incoming").iterdir()) == []


def test_an_open_media_folder_left_by_an_older_install_is_narrowed(tmp_path, caplog):
    root = tmp_path / "media"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    with caplog.at_level(logging.WARNING):
        MediaStore(root).put(b"x")
    assert mode(root) == 0o700 and "was open to other users" in caplog.text


def test_a_name_that_is_not_a_hash_is_refused(tmp_path):
    with pytest.raises(ValueError):
        MediaStore(tmp_path).path_for("../../etc/passwd")


def test_the_dashboards_upload_limit_is_the_engines_file_limit():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == EngineConfig().max_file_bytes
