"""A long-lived child process that analyses untrusted files under hard limits.

The child (`python -m core.verification._child`) imports the decoders once, then caps itself:
RLIMIT_AS (address space) at `child_memory_bytes`, RLIMIT_CPU at `child_cpu_seconds` more than it
has used before each file, no core dumps. The parent adds a wall-clock limit and kills the child
when it is exceeded. A child that dies, or is killed, costs one file (unscannable, with the reason)
and is replaced on the next call. Requests go down as pickles (we trust ourselves); answers come
back as size-capped JSON, so a child subverted by a hostile file cannot make the parent run code.
Measured cost: one child start (about a second of imports) and a pipe round trip per file.
"""
from __future__ import annotations

import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT
from core.verification.config import EngineConfig
from core.verification.engine import Analysis
from core.verification.hashing import sha256_bytes, sha256_file

_HEADER = struct.Struct(">Q")
MAX_ANSWER_BYTES = 16 * 1024 * 1024
_CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MALLOC_ARENA_MAX": "2", "PYTHONUNBUFFERED": "1"}


class SandboxError(RuntimeError):
    """The child could not be started (a configuration problem, not a hostile file)."""


class Sandbox:
    def __init__(self, config: EngineConfig):
        self.config = config
        self._proc: subprocess.Popen | None = None
        self._served = 0
        self.ready_info: dict = {}

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        env = {**os.environ, **_CHILD_ENV,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen([sys.executable, "-m", "core.verification._child"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=None if os.environ.get("RD_SANDBOX_DEBUG") else subprocess.DEVNULL,
                                      env=env, cwd=str(PROJECT_ROOT))
        self._served = 0
        self._send(pickle.dumps(self.config))
        answer = self._receive(deadline=time.monotonic() + 120)
        if not answer or answer.get("status") != "ready":
            self._kill()
            raise SandboxError(f"the scanning child did not start: {answer}")
        self.ready_info = answer

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

    def close(self) -> None:
        self._kill()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._alive() else None

    # -- requests --------------------------------------------------------------------------
    def analyse(self, *, file_name: str, declared_type: str | None, data: bytes | None = None,
                path: Path | None = None) -> Analysis:
        if not self._alive() or self._served >= self.config.child_max_files:
            self._kill()
            self._start()
        self._served += 1
        request = {"op": "scan", "path": str(path) if path is not None else None, "data": data,
                   "file_name": file_name, "declared_type": declared_type}
        started = time.monotonic()
        try:
            self._send(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            answer = self._receive(deadline=started + self.config.child_wall_seconds)
            if answer.get("exiting"):  # the child recycles itself after running out of memory
                self._kill()
            return Analysis.from_json(answer["analysis"])
        except TimeoutError:
            self._kill()
            reason = (f"decoding took longer than {self.config.child_wall_seconds:g} s and was stopped; "
                      f"the file may be built to exhaust the scanner")
        except (EOFError, BrokenPipeError, ConnectionError, OSError):
            reason = self._death_reason()
        except (ValueError, KeyError, TypeError) as exc:
            self._kill()
            reason = f"the scanning child returned a malformed answer ({exc}) and was replaced"
        sha = sha256_bytes(data) if data is not None else _safe_sha(path)
        return Analysis(sha, unscannable_reason=reason)

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


def _safe_sha(path: Path | None) -> str | None:
    try:
        return sha256_file(path) if path is not None else None
    except OSError:
        return None
