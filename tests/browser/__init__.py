"""Browser tests: Playwright drives Debian's Chromium, headless, against `streamlit run dashboard.py`
(or `app.py`). The helpers: the server (`dashboard`), the browser (`chromium`), screenshots, and a
record of requests to other hosts."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.localnet import free_port, wait_until_up
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


def settled(page) -> None:
    """The script run that the last action started has finished."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")


def open_page(page, spec, tries: int = 3) -> int:
    """Click a page in the navigation and wait for its address (the landing page lives at /); returns
    the clicks it took. On a loaded machine a click that lands while the sidebar is being redrawn is
    lost, as it would be for a person, who clicks again: so does this, a few times, before it fails."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    address = re.compile(rf"/({spec.url_path})?(\?.*)?$")
    for attempt in range(1, tries):
        page.get_by_role("link", name=spec.title).first.click()
        try:
            page.wait_for_url(address, timeout=10_000)
            return attempt
        except PlaywrightTimeout:
            pass
    page.get_by_role("link", name=spec.title).first.click()
    page.wait_for_url(address, timeout=10_000)
    return tries


def open_next(page, item_id: int, click=None, tries: int = 3) -> None:
    """Click "Open next item" until item `item_id` opens. Right after a navigation the page is still
    being redrawn, and on a loaded machine a click that lands then is lost, as it would be for a person,
    who clicks again: so does this, but only while no item is open at all (a second click once one has
    opened would move on past it)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    press = click or (lambda locator: locator.click())
    button = page.get_by_role("button", name="Open next item")
    wanted = page.get_by_role("heading", name=f"Item {item_id}", exact=True)
    any_item = page.get_by_role("heading", name=re.compile(r"^Item \d+$"))
    for _ in range(tries):
        settled(page)
        press(button)
        try:
            wanted.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            if any_item.count():
                break  # an item opened, slowly or another one: wait for it below, never click past it
    try:
        wanted.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        shot(page, f"failed-to-open-{item_id}")
        raise


@contextmanager
def every(seconds: float, step) -> Iterator[None]:
    """Run `step` every `seconds` in a thread while the block runs: what the worker does beside the
    dashboard (its mail relay, its heartbeat), without starting a worker."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            step()
            stop.wait(seconds)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Until Streamlit answers its health check (it raises if it never does)."""
    wait_until_up(f"{base_url}/_stcore/health", timeout=timeout).raise_for_status()


@contextmanager
def dashboard(env: dict[str, str]) -> Iterator[str]:
    """`streamlit run dashboard.py` (the launcher's command) on a free loopback port, with `env` over
    this process's environment; yields its base URL. Fails on a traceback in its output."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def hosts_asked(page, base_url: str) -> list[str]:
    """Every request the page makes to a host other than `base_url`'s, as it happens (the list grows)."""
    ours = urlsplit(base_url).netloc
    outside: list[str] = []

    def seen(request) -> None:
        url = request.url.removeprefix("blob:")
        if not url.startswith("data:") and urlsplit(url).netloc != ours:
            outside.append(request.url)

    page.on("request", seen)
    return outside


def session_cookie(context, timeout: float = 20.0) -> dict | None:
    """The browser's session cookie once it has it: a tab hands it over just after sign-in, so a test
    that reloads or opens a second tab at once waits for it first, as no person could be that quick."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == "rd_session"]
        if found:
            return found[0]
        time.sleep(0.2)
    return None
