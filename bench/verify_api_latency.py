"""Verification API latency and throughput: `python -m core serve --workers 2` on a temporary
database, a 2-megapixel JPEG posted again and again.

    .venv/bin/python bench/verify_api_latency.py [--requests 60] [--clients 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.bootstrap import build, migrate
from core.commands.apikeys import create_api_key
from core.domain.roles import Actor
from core.localnet import free_port, wait_until_up
from core.settings import PROJECT_ROOT, Settings
from core.verification.corpus import genuine_photo

KEY = "benchmark-audit-key-0123456789abcdef"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    photo = genuine_photo(1, size=(1632, 1224))  # 2.0 megapixels
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/api.db"
        migrate(url)
        app = build(Settings(database_url=url, var_dir=Path(tmp), audit_key=KEY.encode(), demo_mode=False))
        _, api_key = create_api_key(app.uow(), actor=Actor.system("bench"), name="bench", rate_per_minute=100_000)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "RD_VAR_DIR": tmp, "RD_AUDIT_KEY": KEY}
        server = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "2"],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/healthz", timeout=60)
            session = requests.Session()

            def verify(_=None) -> float:
                start = time.perf_counter()
                r = session.post(f"{base}/v1/verify", headers={"X-API-Key": api_key}, timeout=120,
                                 files={"file": ("selfie.jpg", photo, "image/jpeg")})
                r.raise_for_status()
                return (time.perf_counter() - start) * 1000

            for _ in range(6):  # both server processes start their engines
                verify()
            latencies = [verify() for _ in range(args.requests)]
            start = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                concurrent = list(pool.map(verify, range(args.requests)))
            rps = args.requests / (time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"2-megapixel JPEG ({len(photo) / 1e6:.1f} MB), {args.requests} requests one at a time:")
    print(f"  p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 95):.0f} ms")
    print(f"{args.clients} concurrent clients against 2 server processes: {rps:.1f} requests/s "
          f"(p95 {percentile(concurrent, 95):.0f} ms)")
    print(f"p95_ms={percentile(latencies, 95):.0f}")


if __name__ == "__main__":
    main()
