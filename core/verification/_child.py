"""The sandboxed child: `python -m core.verification._child`, driven by sandbox.Sandbox over
stdin/stdout. Leaves the network first, imports every decoder and loads the models, then locks
itself down (limits, Landlock, seccomp: see confine.py) before it answers "ready"."""
from __future__ import annotations

import dataclasses
import gc
import json
import os
import pickle
import resource
import struct
import sys
import warnings
from pathlib import Path

from core.verification import confine

_HEADER = struct.Struct(">Q")
WARM_UP_NAME = "warm-up.png"


def _read_exact(fh, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cap_cpu(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))


def _warm_up(analyzer) -> None:
    """One tiny scan before the limits apply, so lazy imports (scipy's DCT for pHash) and
    library initialisation never happen under the memory cap."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, "PNG")
    analyzer.analyse(buf.getvalue(), file_name=WARM_UP_NAME, declared_type="image/png")


def _explanations_into(config, workdir: Path):
    """Detectors save explanation images in the child's own folder; the parent checks each one and
    moves it to the configured folder, which the child cannot reach."""
    if config.explanations_dir is None:
        return config
    return dataclasses.replace(config, explanations_dir=workdir / "explanations")


def main() -> int:
    namespaces, problems = confine.enter_namespaces()  # while this process is still one thread
    inp = os.fdopen(0, "rb", buffering=0)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    warnings.simplefilter("ignore")

    def send(obj) -> None:
        payload = json.dumps(obj, default=str).encode()
        out.write(_HEADER.pack(len(payload)) + payload)

    boot = pickle.loads(_read_exact(inp, _HEADER.unpack(_read_exact(inp, 8))[0]))
    workdir = Path(boot["workdir"])
    config = _explanations_into(boot["config"], workdir)
    from PIL import Image, PngImagePlugin

    from core.verification.engine import Analyzer

    Image.MAX_IMAGE_PIXELS = config.max_pixels
    PngImagePlugin.MAX_TEXT_CHUNK = config.max_text_chunk_bytes
    PngImagePlugin.MAX_TEXT_MEMORY = config.max_metadata_bytes
    analyzer = Analyzer(config)
    _warm_up(analyzer)
    baseline_vm = _status_kb("VmSize") * 1024
    if baseline_vm >= config.child_memory_bytes:
        send({"status": "error", "error": f"child needs {baseline_vm} bytes before any file; "
                                          f"child_memory_bytes is {config.child_memory_bytes}"})
        return 2
    isolation = confine.lock_down(config, workdir=workdir, protected=boot["protected"],
                                  namespaces=namespaces, problems=problems)
    send({"status": "ready", "pid": os.getpid(), "baseline_vm_bytes": baseline_vm,
          "memory_limit_bytes": resource.getrlimit(resource.RLIMIT_AS)[0], "isolation": isolation})
    while True:
        try:
            request = pickle.loads(_read_exact(inp, _HEADER.unpack(_read_exact(inp, 8))[0]))
        except EOFError:
            return 0
        if request["op"] == "stats":
            send({"pid": os.getpid(), "peak_rss_bytes": _status_kb("VmHWM") * 1024,
                  "rss_bytes": _status_kb("VmRSS") * 1024, "peak_vm_bytes": _status_kb("VmPeak") * 1024,
                  "memory_limit_bytes": resource.getrlimit(resource.RLIMIT_AS)[0],
                  "cpu_limit_s": config.child_cpu_seconds, "cpu_used_s": _cpu_used()})
            continue
        _cap_cpu(config.child_cpu_seconds)
        out_of_memory = False
        data = request["data"]
        try:
            analysis = analyzer.analyse(data, file_name=request["file_name"],
                                        declared_type=request["declared_type"])
        except MemoryError:
            from core.verification.engine import Analysis
            from core.verification.hashing import sha256_bytes

            out_of_memory = True
            analysis = Analysis(sha256_bytes(data),
                                unscannable_reason="decoding needed more memory than the scanner allows "
                                                   f"({config.child_memory_bytes // 2**20} MB); the file "
                                                   "may be built to exhaust it")
        data = None
        # After an allocation failure, start afresh rather than continue in a fragmented heap.
        exiting = out_of_memory or "more memory" in (analysis.unscannable_reason or "")
        send({"analysis": analysis.to_json(), "exiting": exiting})
        if exiting:
            return 3
        gc.collect(0)


if __name__ == "__main__":
    sys.exit(main())
