"""The scanning child holds no secrets: a real Sandbox child, attacked from inside by a detector
(tests/security/hostile_detector.py) while it analyses a file, cannot read the audit key, the
parent's environment or its /proc entry, reach a loopback listener, run a program or signal the
parent; and the parent accepts from it only plain PNG explanation images.

These need Landlock (Linux 5.13+) and a seccomp filter for this architecture; without them the
product still scans, logging an error, and these tests are skipped with the reason."""
from __future__ import annotations

import fcntl
import logging
import os
import platform
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from core.verification.config import DetectorSettings, EngineConfig
from core.verification.confine import CHILD_OPEN_FILES, Grants, landlock_abi, refuse_protected, requested_grants
from core.verification.corpus import genuine_photo
from core.verification.sandbox import Sandbox, child_environment, log_isolation

pytestmark = pytest.mark.skipif(landlock_abi() < 1 or platform.machine() not in ("x86_64", "aarch64"),
                                reason="this kernel or architecture offers no Landlock or no seccomp filter here")

SECRET_VARIABLES = {"RD_AUDIT_KEY": "test-only-audit-key-0123456789abcdef",
                    "SF_CLIENT_SECRET": "test-only-salesforce-client-secret",
                    "DATABASE_URL": "postgresql://rd:test-only-password@127.0.0.1/rd"}


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    var = tmp_path_factory.mktemp("installation") / "var"
    var.mkdir(mode=0o700)
    (var / "audit.key").write_text("0f" * 32)
    return var


@pytest.fixture(scope="module")
def listener():
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def hostile_sandbox(var_dir, listener, tmp_path, claim=None) -> Sandbox:
    options = {"secret_file": str(var_dir / "audit.key"), "port": listener.getsockname()[1],
               "secret_variables": sorted(SECRET_VARIABLES), "claim": claim}
    config = EngineConfig(explanations_dir=tmp_path / "explanations", detectors={
        "hostile": DetectorSettings(factory="tests.security.hostile_detector:build", options=options)})
    return Sandbox(config, protected_paths=[var_dir])


def attacked(sandbox: Sandbox):
    analysis = sandbox.analyse(data=genuine_photo(5, (96, 72)), file_name="photo.jpg", declared_type=None)
    return next(s for s in analysis.signals if s.name == "hostile")


@pytest.fixture(scope="module")
def attack(var_dir, listener, tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        for name, value in SECRET_VARIABLES.items():
            env.setenv(name, value)
        sandbox = hostile_sandbox(var_dir, listener, tmp_path_factory.mktemp("scan"), claim="secret")
        signal = attacked(sandbox)
    yield sandbox, signal
    sandbox.close()


def test_the_child_cannot_read_or_write_the_audit_key_folder(attack, var_dir):
    _, signal = attack
    assert (var_dir / "audit.key").read_bytes()  # the parent can
    assert signal.evidence["read_secret_file"] == "refused: PermissionError 13"
    assert signal.evidence["write_beside_secret_file"] == "refused: PermissionError 13"
    assert not (var_dir / "planted").exists()


def test_the_child_has_none_of_the_parents_environment(attack, tmp_path):
    _, signal = attack
    assert signal.evidence["leaked"] == dict.fromkeys(SECRET_VARIABLES)
    allowed = set(child_environment(tmp_path)) | {"LC_CTYPE"}  # Python's own locale coercion (PEP 538)
    assert set(signal.evidence["environment"]) <= allowed
    assert signal.evidence["read_parent_environment"] == "refused: PermissionError 13"


def test_the_child_cannot_open_a_socket_or_reach_a_loopback_listener(attack, listener):
    _, signal = attack
    assert signal.evidence["connect_to_loopback"] == "refused: PermissionError 1"
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected


def test_the_child_cannot_run_a_program_or_signal_the_parent(attack):
    _, signal = attack
    assert signal.evidence["run_a_program"].startswith("refused: PermissionError")
    assert signal.evidence["signal_parent"] == "refused: PermissionError 1"


def test_the_isolation_report_says_what_the_child_obtained_and_the_kernel_agrees(attack):
    sandbox, _ = attack
    isolation, pid = sandbox.isolation, sandbox.pid
    assert isolation["filesystem"] == [f"landlock-abi{landlock_abi()}"]
    assert "seccomp" in isolation["network"] and "seccomp" in isolation["exec"]
    with open(f"/proc/{pid}/status") as fh:
        status = dict(line.split(":", 1) for line in fh)
    assert status["Seccomp"].strip() == "2" and status["NoNewPrivs"].strip() == "1"
    assert status["Threads"].strip() == "1"  # Landlock binds every thread only when there is one
    in_own_netns = os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert in_own_netns == ("netns" in isolation["network"]) == ("net" in isolation["namespaces"])
    assert in_own_netns or any("unshare" in p for p in isolation["problems"])
    with open(f"/proc/{pid}/limits") as fh:
        limits = {row[:26].strip(): row[26:].split() for row in fh}
    assert limits["Max open files"][:2] == [str(CHILD_OPEN_FILES)] * 2
    assert limits["Max file size"][0] == str(isolation["limits"]["file_size"])
    assert str(PROJECT_ROOT) not in isolation["grants"]["read_only"]


def test_the_parent_refuses_an_explanation_that_is_not_a_png_the_child_made(attack, var_dir, tmp_path, listener):
    sandbox, signal = attack
    assert signal.explanation_path is None  # it claimed the audit key
    assert not (sandbox.config.explanations_dir).exists()
    with hostile_sandbox(var_dir, listener, tmp_path, claim="not_png") as fake:
        assert attacked(fake).explanation_path is None
    assert list((tmp_path / "explanations").glob("*")) == []


def test_a_genuine_explanation_is_moved_where_the_configuration_says(var_dir, listener, tmp_path):
    with hostile_sandbox(var_dir, listener, tmp_path, claim="real") as sandbox:
        signal = attacked(sandbox)
        assert signal.explanation_path == str(tmp_path / "explanations" / "hostile-overlay.png")
        assert (tmp_path / "explanations" / "hostile-overlay.png").read_bytes().startswith(b"\x89PNG")
        assert list((sandbox.workdir / "explanations").glob("*")) == []  # nothing left behind


def test_the_childs_temp_folder_is_private_and_removed_when_it_dies_or_closes(tmp_path):
    sandbox = Sandbox(EngineConfig(), protected_paths=[tmp_path])
    sandbox.stats()
    first = sandbox.workdir
    assert stat.S_IMODE(first.stat().st_mode) == 0o700
    os.kill(sandbox.pid, 9)
    deadline = time.monotonic() + 10
    while sandbox.pid is not None and time.monotonic() < deadline:  # until the kill has landed
        time.sleep(0.01)
    outcome = sandbox.analyse(data=genuine_photo(6, (96, 72)), file_name="next.jpg", declared_type=None)
    assert outcome.unscannable_reason is None and not first.exists()
    second = sandbox.workdir
    sandbox.close()
    assert second != first and not second.exists()


def test_a_grant_that_holds_or_lies_inside_a_protected_path_is_refused(tmp_path):
    project, var = tmp_path / "project", tmp_path / "project" / "var"
    var.mkdir(parents=True)
    (tmp_path / "link-to-var").symlink_to(var)
    grants = Grants(read_only=(project, tmp_path / "usr", tmp_path / "link-to-var"), read_write=(var / "tmp",))
    kept = refuse_protected(grants, [var])
    assert kept.read_only == (tmp_path / "usr",) and kept.read_write == ()
    assert len(kept.refused) == 3 and all(str(var) in why for why in kept.refused)


def test_trust_anchors_kept_in_a_protected_folder_are_not_granted(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    (var / "anchors.pem").write_text("")
    config = EngineConfig(trust_anchors_path=var / "anchors.pem")
    kept = refuse_protected(requested_grants(config, tmp_path / "work"), [var])
    assert var / "anchors.pem" not in kept.read_only and len(kept.refused) == 1
    assert PROJECT_ROOT / "core" in kept.read_only and PROJECT_ROOT not in kept.read_only


def test_a_missing_layer_is_logged_as_an_error_with_the_reason(caplog):
    with caplog.at_level(logging.ERROR, logger="core.verification.sandbox"):
        log_isolation({"network": [], "filesystem": ["landlock-abi7"], "exec": ["seccomp"],
                       "problems": ["unshare(net) refused: Operation not permitted"]})
    assert "without network isolation" in caplog.text and "Operation not permitted" in caplog.text


def test_a_folder_left_by_a_killed_parent_is_removed_when_a_child_starts(tmp_path):
    orphan, in_use = (Path(tempfile.mkdtemp(prefix="rd-scan-")) for _ in range(2))
    (orphan / "upload-copy.mp4").write_bytes(b"a customer's video")
    for folder in (orphan, in_use):
        os.utime(folder, (time.time() - 3600,) * 2)
    lock = os.open(in_use, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as a live sandbox holds its folder
    try:
        with Sandbox(EngineConfig(), protected_paths=[tmp_path]) as sandbox:
            sandbox.stats()
        assert not orphan.exists() and in_use.is_dir()
    finally:
        os.close(lock)
        shutil.rmtree(in_use)
