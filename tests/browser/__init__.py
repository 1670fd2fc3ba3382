"""Browser tests: Playwright drives Debian's Chromium, headless, against `streamlit run app.py`."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import requests

from core.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = PROJECT_ROOT / "tests" / "browser" / "screenshots"


def require_chromium() -> None:
    """Skip without Debian's Chromium, except in CI, where browser tests must run."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing and CI is set: browser tests must run in CI")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Until Streamlit answers its health check (it raises if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base_url}/_stcore/health", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url} did not become healthy within {timeout:.0f} s")
        time.sleep(0.3)
