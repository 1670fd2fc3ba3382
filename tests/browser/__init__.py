"""Browser tests: Playwright drives Debian's Chromium, headless, against `streamlit run app.py`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.localnet import wait_until_up
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


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Until Streamlit answers its health check (it raises if it never does)."""
    wait_until_up(f"{base_url}/_stcore/health", timeout=timeout).raise_for_status()
