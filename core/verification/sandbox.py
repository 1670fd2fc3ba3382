"""A long-lived child process that analyses untrusted files under hard limits.

The child (`python -m core.verification._child`) gets an environment built from an allow-list (no
secret of ours crosses), a temp folder of its own (the parent creates it 0700 and removes it with
the child) and the file's bytes, read here: it never needs a path of ours. It leaves the network,
imports the decoders once, then locks itself down (confine.py): RLIMIT_AS at `child_memory_bytes`,
no core dumps, caps on file size and open files, Landlock and a seccomp filter. RLIMIT_CPU is set
`child_cpu_seconds` above what it has used before each file. What it obtained comes back in its
"ready" answer (`Sandbox.isolation`); a missing layer is logged as an error here, with the reason.
The parent adds a wall-clock limit and kills the child when it is exceeded. A child that dies, or
is killed, costs one file (unscannable, with the reason) and is replaced on the next call.
Requests go down as pickles (we trust ourselves); answers come back as size-capped JSON, and
explanation images as plain PNG files the parent checks before moving them where they belong, so a
child subverted by a hostile file cannot make the parent run code or write where it chooses.
Measured cost: one child start (about a second of imports) and a pipe round trip per file.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import pickle
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

from core.settings import PROJECT_ROOT
from core.verification.config import EngineConfig
from core.verification.confine import file_size_limit
from core.verification.engine import Analysis
from core.verification.hashing import sha256_bytes

log = logging.getLogger(__name__)
_HEADER = struct.Struct(">Q")
MAX_ANSWER_BYTES = 16 * 1024 * 1024
_CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENCV_FOR_THREADS_NUM": "1", "MALLOC_ARENA_MAX": "2", "PYTHONUNBUFFERED": "1",
              # Also keeps ONNX Runtime from starting its telemetry thread: the child must be one
              # thread when it locks itself down.
              "ORT_DISABLE_TELEMETRY": "1"}
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH")  # the only variables of ours the child sees
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_WORKDIR_PREFIX = "rd-scan-"
_ORPHAN_AFTER_S = 60


class SandboxError(RuntimeError):
    """The child could not be started (a configuration problem, not a hostile file)."""


class Sandbox:
    """`protected_paths`: what the child must never be able to open, whatever else it is granted;
    by default the installation's var/ folder, database file, secrets file and Salesforce key."""

    def __init__(self, config: EngineConfig, *, protected_paths: Iterable[Path] | None = None):
        self.config = config
        self._protected = None if protected_paths is None else tuple(Path(p) for p in protected_paths)
        self._proc: subprocess.Popen | None = None
        self._workdir: Path | None = None
        self._workdir_removal: weakref.finalize | None = None
        self._served = 0
        self.ready_info: dict = {}

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        if self._protected is None:
            self._protected = settings_protected_paths()
        self._workdir, lock = _new_workdir()
        # Removed with the child, or when this Sandbox is collected or the interpreter exits.
        self._workdir_removal = weakref.finalize(self, _remove_workdir, self._workdir, lock)
        self._proc = subprocess.Popen([sys.executable, "-P", "-s", "-m", "core.verification._child"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=None if os.environ.get("RD_SANDBOX_DEBUG") else subprocess.DEVNULL,
                                      env=child_environment(self._workdir), cwd=str(self._workdir))
        self._served = 0
        self._send(pickle.dumps({"config": self.config, "workdir": str(self._workdir),
                                 "protected": [str(p) for p in self._protected]}))
        answer = self._receive(deadline=time.monotonic() + 120)
        if not answer or answer.get("status") != "ready":
            self._kill()
            raise SandboxError(f"the scanning child did not start: {answer}")
        self.ready_info = answer
        log_isolation(answer.get("isolation") or {})

    @property
    def isolation(self) -> dict:
        """What the running child obtained: {"network": [...], "filesystem": [...], "exec": [...],
        "signals": [...], "namespaces": [...], "limits": {...}, "grants": {...}, "problems": [...]}."""
        return self.ready_info.get("isolation", {})

    @property
    def workdir(self) -> Path | None:
        return self._workdir

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        self._proc = None
        if self._workdir_removal is not None:
            self._workdir_removal()
        self._workdir = self._workdir_removal = None

    def close(self) -> None:
        self._kill()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._alive() else None

    # -- requests --------------------------------------------------------------------------
    def analyse(self, *, file_name: str, declared_type: str | None, data: bytes | None = None,
                path: Path | None = None) -> Analysis:
        if data is None:
            try:
                with open(path, "rb") as fh:  # read here: the child cannot open our files
                    data = fh.read(self.config.max_file_bytes + 1)
            except OSError as exc:
                return Analysis(None, unscannable_reason=f"the file cannot be read ({exc.strerror or exc})")
        if not self._alive() or self._served >= self.config.child_max_files:
            self._kill()
            self._start()
        self._served += 1
        request = {"op": "scan", "data": data, "file_name": file_name, "declared_type": declared_type}
        started = time.monotonic()
        try:
            self._send(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            answer = self._receive(deadline=started + self.config.child_wall_seconds)
            analysis = Analysis.from_json(answer["analysis"])
        except TimeoutError:
            self._kill()
            reason = (f"decoding took longer than {self.config.child_wall_seconds:g} s and was stopped; "
                      f"the file may be built to exhaust the scanner")
        except (EOFError, BrokenPipeError, ConnectionError, OSError):
            reason = self._death_reason()
        except (ValueError, KeyError, TypeError) as exc:
            self._kill()
            reason = f"the scanning child returned a malformed answer ({exc}) and was replaced"
        else:
            analysis = self._with_explanations(analysis)
            if answer.get("exiting"):  # the child recycles itself after running out of memory
                self._kill()
            return analysis
        return Analysis(sha256_bytes(data), unscannable_reason=reason)

    def _with_explanations(self, analysis: Analysis) -> Analysis:
        """Moves each explanation image the child saved into the configured folder and points the
        signal at it; anything else the child left in its folder is discarded."""
        outbox = self._workdir / "explanations"
        signals = tuple(dataclasses.replace(s, explanation_path=self._adopt(s.explanation_path, outbox))
                        if s.explanation_path else s for s in analysis.signals)
        shutil.rmtree(outbox, ignore_errors=True)
        return dataclasses.replace(analysis, signals=signals)

    def _adopt(self, reported: str, outbox: Path) -> str | None:
        from core.verification.detectors import explanation_file_name

        name = Path(reported).name if isinstance(reported, str) else ""
        if (not name.endswith(".png") or name != explanation_file_name(name[:-len(".png")])
                or Path(reported).parent != outbox or self.config.explanations_dir is None):
            log.warning("explanation image %r refused: not a PNG name in the child's folder", reported)
            return None
        image = _read_regular_file(outbox / name, file_size_limit(self.config.max_file_bytes))
        if image is None or not image.startswith(_PNG_SIGNATURE):
            log.warning("explanation image %s refused: not a plain PNG file within the size limit", name)
            return None
        destination = Path(self.config.explanations_dir)
        try:
            destination.mkdir(parents=True, exist_ok=True)
            partial = destination / f".{name}.partial"
            partial.write_bytes(image)
            os.replace(partial, destination / name)
        except OSError as exc:  # the scan stands without its visual aid
            log.error("explanation image %s not stored in %s: %s", name, destination, exc)
            return None
        return str(destination / name)

    def stats(self) -> dict:
        """The child's memory figures: peak resident set (VmHWM) and address-space limit."""
        if not self._alive():
            self._start()
        self._send(pickle.dumps({"op": "stats"}))
        return self._receive(deadline=time.monotonic() + 10)

    def _death_reason(self) -> str:
        code = self._proc.wait() if self._proc is not None else None
        self._kill()
        cpu = signal.SIGXCPU
        if code == -cpu or code == 128 + cpu:
            return (f"decoding used more than {self.config.child_cpu_seconds} s of CPU time and was "
                    f"stopped; the file may be built to exhaust the scanner")
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            return (f"the decoder crashed on this file ({name}); it may be malformed on purpose, or "
                    f"needed more than the {self.config.child_memory_bytes // 2**20} MB memory allowance")
        return f"the scanning child stopped unexpectedly (exit status {code}) while reading this file"

    # -- framing ---------------------------------------------------------------------------
    def _send(self, payload: bytes) -> None:
        stdin = self._proc.stdin
        stdin.write(_HEADER.pack(len(payload)))
        stdin.write(payload)
        stdin.flush()

    def _receive(self, deadline: float) -> dict:
        size = _HEADER.unpack(self._read(_HEADER.size, deadline))[0]
        if size > MAX_ANSWER_BYTES:
            raise ValueError(f"answer of {size} bytes is over the cap")
        return json.loads(self._read(size, deadline))

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self._proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def child_environment(workdir: Path) -> dict[str, str]:
    """Built from an allow-list, never from os.environ minus a deny-list: the keys, passwords and
    database URL the parent holds stay out of the child."""
    env = {name: os.environ[name] for name in _PASSED_ENV if os.environ.get(name)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return {**env, **_CHILD_ENV, "HOME": str(workdir), "TMPDIR": str(workdir)}


def _new_workdir() -> tuple[Path, int]:
    """A 0700 folder for one child, and a lock on it held until the folder is removed. The lock
    tells a folder in use from one whose parent was killed (which left, perhaps, a copy of a
    customer's video in it): starting a child removes those, whichever process left them."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_WORKDIR_PREFIX}*"):
        _remove_if_orphaned(folder)
    folder = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
    lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(lock, fcntl.LOCK_EX)
    return folder, lock


def _remove_workdir(folder: Path, lock: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    os.close(lock)


def _remove_if_orphaned(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid() or time.time() - info.st_mtime < _ORPHAN_AFTER_S:
            return  # not ours, or perhaps created a moment ago and not yet locked
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked: its sandbox is alive
        return
    finally:
        os.close(fd)
    shutil.rmtree(folder, ignore_errors=True)


def settings_protected_paths() -> tuple[Path, ...]:
    """This installation's runtime state, database file, secrets file and Salesforce private key."""
    from core.settings import get_settings

    # Where core.settings reads the secrets file from.
    paths = [Path(os.environ.get("RD_SECRETS_FILE", PROJECT_ROOT / ".streamlit" / "secrets.toml"))]
    try:
        settings = get_settings()
    except (ValueError, OSError) as exc:  # SettingsError included: a scan runs without settings (the CLI's)
        log.warning("settings do not load (%s): protecting the default var/ folder", exc)
        return (*paths, PROJECT_ROOT / "var")
    paths.append(settings.var_dir)
    if settings.is_sqlite:
        from sqlalchemy.engine import make_url

        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            paths.append(Path(database))
    if settings.salesforce and settings.salesforce.private_key_file:
        paths.append(Path(settings.salesforce.private_key_file))
    return tuple(paths)


def log_isolation(isolation: dict) -> None:
    """One line per child start; an error when a whole layer is missing, with the reasons."""
    problems = "; ".join(isolation.get("problems", [])) or "no reason given"
    missing = [aspect for aspect in ("network", "filesystem", "exec") if not isolation.get(aspect)]
    if missing:
        log.error("the scanning child runs without %s isolation: %s", ", ".join(missing), problems)
    elif isolation.get("problems"):
        log.warning("the scanning child is isolated, with gaps: %s", problems)
    else:
        log.info("scanning child isolated: network %s, filesystem %s, exec %s",
                 *("+".join(isolation[aspect]) for aspect in ("network", "filesystem", "exec")))


def _read_regular_file(path: Path, limit: int) -> bytes | None:
    """The bytes of a plain file (not a link, a device or a FIFO) of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None
