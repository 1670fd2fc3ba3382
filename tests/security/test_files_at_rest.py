"""Files at rest are the owner's alone (var/ 0700; the audit key, the database and its WAL files,
evidence packs and exports 0600) whatever the umask; the audit key is created once, whole, by one of
two racing starters and never silently replaced; `evidence verify` refuses zips not shaped like a pack."""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from core.adapters.db import make_database
from core.bootstrap import build, migrate
from core.commands import evidence
from core.entrypoints import cli
from core.settings import PROJECT_ROOT, SettingsError, _audit_key, load_settings
from tests.conftest import TEST_AUDIT_KEY, mode
from tests.integration.test_incidents_helpers import AUDITOR, incident_with_items


@pytest.fixture
def fresh_install(tmp_path, monkeypatch) -> Path:
    """Settings read from the environment for an installation whose var/ does not exist yet."""
    var = tmp_path / "install" / "var"
    monkeypatch.setenv("RD_VAR_DIR", str(var))
    monkeypatch.setenv("RD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    for name in ("DATABASE_URL", "RD_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    return var


def test_var_the_audit_key_and_the_database_with_its_wal_files_are_owner_only(fresh_install, open_umask):
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{fresh_install / 'responsedesk.db'}"
    migrate(settings.database_url)
    app = build(settings)
    try:
        with app.db.writer() as session:  # a write with a connection open keeps -wal and -shm in place
            session.execute(text("CREATE TABLE probe (n INTEGER)"))
            session.commit()
            database = fresh_install / "responsedesk.db"
            assert mode(fresh_install) == 0o700
            assert mode(fresh_install / "audit.key") == 0o600
            assert mode(database) == 0o600
            for companion in ("-wal", "-shm"):
                assert mode(Path(f"{database}{companion}")) == 0o600, companion
    finally:
        app.db.dispose()


def test_an_open_var_and_database_left_by_an_older_install_are_narrowed_with_a_warning(fresh_install, caplog):
    fresh_install.mkdir(parents=True, mode=0o755)
    os.chmod(fresh_install, 0o755)
    database = fresh_install / "responsedesk.db"
    database.write_bytes(b"")
    os.chmod(database, 0o644)
    with caplog.at_level(logging.WARNING, logger="core.adapters.files"):
        settings = load_settings()
        build(settings).db.dispose()
    assert mode(fresh_install) == 0o700 and mode(database) == 0o600
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert f"{fresh_install} was open to other users (mode 0755)" in warned
    assert f"{database} was open to other users (mode 0644)" in warned


def test_a_sqlite_database_elsewhere_is_owner_only_and_its_existing_folder_left_alone(tmp_path, open_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_database(f"sqlite:///{shared / 'rd.db'}").dispose()
    assert mode(shared) == 0o755  # not ours to narrow (think /srv or /tmp)
    assert mode(shared / "rd.db") == 0o600
    make_database(f"sqlite:///{tmp_path / 'new' / 'folder' / 'rd.db'}").dispose()
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "folder") == 0o700


@pytest.mark.parametrize("content", ["", "3f2a", "ab" * 31 + "\n", "not hex, though long enough " * 3])
def test_an_empty_truncated_or_damaged_key_file_stops_the_start_and_is_kept(fresh_install, content):
    fresh_install.mkdir(parents=True)
    key_file = fresh_install / "audit.key"
    key_file.write_text(content)
    with pytest.raises(SettingsError, match="empty, truncated or damaged"):
        load_settings()
    assert key_file.read_text() == content  # never regenerated: a new key would break the chain's seals


def test_an_existing_key_is_read_back_unchanged(fresh_install):
    first = load_settings().audit_key
    assert len(first) == 64 and load_settings().audit_key == first


def _start_and_read_key(var_dir: str, barrier, results) -> None:
    barrier.wait()
    results.put(_audit_key(None, Path(var_dir)).decode())


def test_processes_starting_at_once_end_with_one_key(tmp_path):
    """Rounds of starters released together on a fresh var/: the race is real, if not every round."""
    context, starters = multiprocessing.get_context("fork"), 12
    for attempt in range(15):
        var_dir = tmp_path / f"var-{attempt}"
        var_dir.mkdir(mode=0o700)
        barrier, results = context.Barrier(starters), context.Queue()
        processes = [context.Process(target=_start_and_read_key, args=(str(var_dir), barrier, results))
                     for _ in range(starters)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(timeout=60)
        assert [p.exitcode for p in processes] == [0] * starters
        keys = {results.get(timeout=10) for _ in processes}
        assert keys == {(var_dir / "audit.key").read_text()}
        assert len(keys.pop()) == 64
        assert [f.name for f in var_dir.iterdir()] == ["audit.key"]  # no temporary file left behind


# -- evidence packs and exports --------------------------------------------------------------------------
def test_an_evidence_pack_kept_for_the_dashboard_is_owner_only(sqlite_app, tmp_path, open_umask):
    incident_id, _ = incident_with_items(sqlite_app)
    data = evidence.build_pack(sqlite_app.uow(), actor=AUDITOR, incident_id=incident_id)
    path = evidence.store_pack(data, sqlite_app.settings.var_dir / "evidence", incident_id)
    assert path.parent == tmp_path / "evidence" and mode(path.parent) == 0o700
    assert mode(path) == 0o600 and path.read_bytes() == data
    assert evidence.verify_pack(path, key=TEST_AUDIT_KEY).ok


def test_the_command_line_writes_packs_and_audit_exports_owner_only(sqlite_app, tmp_path):
    incident_id, _ = incident_with_items(sqlite_app)
    env = {"DATABASE_URL": sqlite_app.settings.database_url, "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(),
           "RD_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    pack, trail = tmp_path / "out" / "pack.zip", tmp_path / "out" / "trail.jsonl"
    pack.parent.mkdir()
    trail.write_text("an older export, readable by all\n")
    os.chmod(trail, 0o644)
    for args in (["evidence", "export", "--incident", str(incident_id), "--out", str(pack)],
                 ["audit", "export", "--out", str(trail)]):
        done = subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0); from core.entrypoints.cli import main; "
                               "sys.exit(main(sys.argv[1:]))", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert mode(pack) == 0o600 and zipfile.is_zipfile(pack)
    assert mode(trail) == 0o600 and trail.read_text().startswith('{"format"')
    assert sorted(p.name for p in pack.parent.iterdir()) == ["pack.zip", "trail.jsonl"]


# -- evidence verify refuses zips not shaped like a pack -----------------------------------------------
def _zip(members: list[tuple[str, bytes]]) -> bytearray:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name, and writes it
        for name, data in members:
            zf.writestr(name, data)
    return bytearray(buffer.getvalue())


def _declare_size(data: bytearray, member: int, size: int) -> bytearray:
    """Rewrite the uncompressed size the central directory declares for the nth member."""
    at = -1
    for _ in range(member + 1):
        at = data.index(b"PK\x01\x02", at + 1)
    data[at + 24:at + 28] = struct.pack("<I", size)
    return data


def _refusal(tmp_path, data: bytearray, capsys) -> str:
    path = tmp_path / "hostile.zip"
    path.write_bytes(bytes(data))
    report = evidence.verify_pack(path)
    assert not report.ok
    capsys.readouterr()
    assert cli.main(["evidence", "verify", str(path), "--no-key"]) == 1
    assert "FAILED" in capsys.readouterr().out
    return " | ".join(report.problems)


def test_verify_refuses_two_entries_under_one_name(tmp_path, capsys):
    problems = _refusal(tmp_path, _zip([("manifest.json", b"{}"), ("items.json", b"[]"), ("items.json", b"[1]")]),
                        capsys)
    assert problems == "refused: items.json: two entries under this name (a zip reader would show only one)"


@pytest.mark.parametrize("name", ["../escape.json", "evidence/../../escape.json", "/etc/cron.d/pack",
                                  "C:/pack.json", "..\\escape.json"])
def test_verify_refuses_absolute_paths_and_dot_dot(tmp_path, capsys, name):
    problems = _refusal(tmp_path, _zip([("manifest.json", b"{}"), (name, b"x")]), capsys)
    assert problems.startswith(f"refused: {name!r}: an absolute path or one with '..'")


def test_verify_refuses_too_many_members(tmp_path, capsys):
    members = [(f"file-{n}.json", b"{}") for n in range(evidence.MAX_PACK_MEMBERS + 1)]
    problems = _refusal(tmp_path, _zip(members), capsys)
    assert problems == f"refused: the zip holds {evidence.MAX_PACK_MEMBERS + 1} entries; a pack has at most 64"


def test_verify_refuses_a_member_declaring_more_than_a_pack_file_may_hold(tmp_path, capsys):
    data = _declare_size(_zip([("manifest.json", b"{}"), ("audit_extract.jsonl", b"{}\n")]), 1, 3 * 1024 ** 3)
    problems = _refusal(tmp_path, data, capsys)
    assert problems == ("refused: audit_extract.jsonl: declares 3,072 MiB uncompressed, over the 1,024 MiB "
                        "a pack file may hold")


def test_verify_refuses_members_declaring_more_than_a_pack_may_hold_in_all(tmp_path, capsys):
    data = _zip([(f"part-{n}.json", b"{}") for n in range(3)])
    for n in range(3):
        data = _declare_size(data, n, 1000 * 1024 ** 2)
    problems = _refusal(tmp_path, data, capsys)
    assert problems == "refused: the files declare 3,000 MiB uncompressed, over the 2,048 MiB a pack may hold"


def test_verify_refuses_a_member_whose_content_outgrows_its_declared_size(tmp_path, capsys):
    """A bomb that declares 10 bytes and inflates to 1 MiB is not read past what it declared."""
    data = _declare_size(_zip([("manifest.json", b"{}"), ("items.json", b"\0" * 1024 ** 2)]), 1, 10)
    problems = _refusal(tmp_path, data, capsys)
    assert problems.startswith("items.json: unreadable in the zip (Bad CRC-32")


def test_a_real_pack_stays_within_every_bound(sqlite_app, tmp_path):
    incident_id, _ = incident_with_items(sqlite_app)
    path = tmp_path / "pack.zip"
    path.write_bytes(evidence.build_pack(sqlite_app.uow(), actor=AUDITOR, incident_id=incident_id))
    report = evidence.verify_pack(path, key=TEST_AUDIT_KEY)
    assert report.ok, report.problems
