"""How long a scanning child takes to start: from spawning it to its "ready" answer, with this
installation's detectors (imports, models, the warm-up scan and the lock-down of confine.py).

    .venv/bin/python bench/sandbox_start.py [--starts 8]

Children are started one after another; the figures are the median, best and worst of the starts,
then what the last child obtained. The last line is `child_start_median_s=<number>`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.verification.sandbox import Sandbox
from core.verification.setup import engine_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=8)
    args = parser.parse_args()
    config = engine_config()
    times = []
    for _ in range(args.starts):
        with Sandbox(config) as sandbox:
            started = time.perf_counter()
            sandbox.stats()  # starts the child and waits for its "ready" answer
            times.append(time.perf_counter() - started)
            isolation = sandbox.isolation
    print(f"{args.starts} starts: median {statistics.median(times):.3f} s, best {min(times):.3f} s, "
          f"worst {max(times):.3f} s")
    print("isolation: " + ", ".join(f"{aspect} {'+'.join(isolation.get(aspect, [])) or 'none'}"
                                    for aspect in ("network", "filesystem", "exec", "signals")))
    print(f"child_start_median_s={statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
