"""The sandboxed child: `python -m core.verification._child`, driven by sandbox.Sandbox over
stdin/stdout. Imports every decoder first, then caps its own memory and CPU (see sandbox.py)."""
from __future__ import annotations

import gc
import json
import os
import pickle
import resource
import struct
import sys
import warnings

_HEADER = struct.Struct(">Q")


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
    analyzer.analyse(buf.getvalue(), file_name="warm-up.png", declared_type="image/png")


def main() -> int:
    inp = os.fdopen(0, "rb", buffering=0)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # stray prints from libraries must not corrupt the protocol
    warnings.simplefilter("ignore")

    def send(obj) -> None:
        payload = json.dumps(obj, default=str).encode()
        out.write(_HEADER.pack(len(payload)) + payload)

    config = pickle.loads(_read_exact(inp, _HEADER.unpack(_read_exact(inp, 8))[0]))
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
    resource.setrlimit(resource.RLIMIT_AS, (config.child_memory_bytes, config.child_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    send({"status": "ready", "pid": os.getpid(), "baseline_vm_bytes": baseline_vm,
          "memory_limit_bytes": resource.getrlimit(resource.RLIMIT_AS)[0]})
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
        try:
            data = request["data"]
            if data is None:
                with open(request["path"], "rb") as fh:
                    data = fh.read(min(os.fstat(fh.fileno()).st_size, config.max_file_bytes) + 1)
            analysis = analyzer.analyse(data, file_name=request["file_name"],
                                        declared_type=request["declared_type"])
        except MemoryError:
            from core.verification.engine import Analysis
            from core.verification.hashing import sha256_bytes

            out_of_memory = True
            analysis = Analysis(sha256_bytes(data) if isinstance(data, bytes) else None,
                                unscannable_reason="decoding needed more memory than the scanner allows "
                                                   f"({config.child_memory_bytes // 2**20} MB); the file "
                                                   "may be built to exhaust it")
        except OSError as exc:
            from core.verification.engine import Analysis

            analysis = Analysis(None, unscannable_reason=f"the file cannot be read ({exc.strerror or exc})")
        data = None
        # After an allocation failure, start afresh rather than continue in a fragmented heap.
        exiting = out_of_memory or "more memory" in (analysis.unscannable_reason or "")
        send({"analysis": analysis.to_json(), "exiting": exiting})
        if exiting:
            return 3
        gc.collect(0)


if __name__ == "__main__":
    sys.exit(main())
