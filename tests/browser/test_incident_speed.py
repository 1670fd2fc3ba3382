"""Speed when it matters: from the Incidents page to "compliance alert sent" (delivered over SMTP)
against a real `streamlit run app.py` in headless Chromium; counts clicks and seconds."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from core.bootstrap import build, migrate
from core.localnet import free_port
from core.loops.mail_relay import mail_relay_for
from core.settings import PROJECT_ROOT, load_settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, every, open_page, require_chromium, settled, wait_until_healthy
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.test_incidents_helpers import flagged_items
from tests.integration.test_smtp import local_smtp
from ui.navigation import ALL_PAGES

pytestmark = pytest.mark.browser
MAX_SECONDS, MAX_CLICKS = 60, 6
INCIDENTS = next(p for p in ALL_PAGES if p.title == "Incidents")


@pytest.fixture
def server(tmp_path, monkeypatch):
    require_chromium()
    with local_smtp(tmp_path) as smtp:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rd.db'}", "RD_VAR_DIR": str(tmp_path),
               "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(), "RD_DEMO": "true", **smtp.env()}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        migrate(env["DATABASE_URL"])
        app = build(load_settings())
        flagged_items(app)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                 "--server.port", str(port), "--server.address", "127.0.0.1"],
                                cwd=PROJECT_ROOT, env={**os.environ, **env},
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        relay = mail_relay_for(app, owner="browser-test")  # what the worker's mail loop does
        try:
            with every(0.3, relay.run_once):
                wait_until_healthy(f"http://127.0.0.1:{port}")
                yield f"http://127.0.0.1:{port}", smtp
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            app.db.dispose()


def test_declare_to_compliance_alert_sent_is_under_a_minute_and_six_clicks(server):
    from playwright.sync_api import expect, sync_playwright

    url, smtp = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(url)
        page.get_by_role("button", name="responder@demo.responsedesk.local").click()  # sign-in, not counted
        expect(page.get_by_role("heading", name="Live")).to_be_visible()
        settled(page)

        clicks = 0

        def click(locator):
            nonlocal clicks
            locator.click()
            clicks += 1

        started = time.monotonic()
        clicks += open_page(page, INCIDENTS)  # a click lost to a redraw is clicked again, and counted
        click(page.get_by_role("button", name="Declare and alert compliance"))
        click(page.get_by_role("button", name="Send alert to compliance"))
        expect(page.get_by_text("Compliance alert sent: delivered to 2 recipient(s).")).to_be_visible(timeout=MAX_SECONDS * 1000)
        seconds = time.monotonic() - started
        browser.close()
    print(f"\ndeclare incident -> compliance alert sent: {clicks} clicks, {seconds:.1f} s")
    assert sorted(e["rcpt_tos"][0] for e in smtp.inbox.envelopes) == [
        "compliance-oncall@harborvale.example", "dpo@harborvale.example"]
    assert clicks <= MAX_CLICKS and seconds < MAX_SECONDS
