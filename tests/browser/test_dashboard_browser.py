"""A real browser against `streamlit run`: a reviewer confirms one item and releases another, a
responder watches the Live page. Screenshots go to tests/browser/screenshots/ (git-ignored)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from core.adapters import worker_state as status
from core.bootstrap import build, migrate
from core.commands import incidents
from core.commands.users import ensure_demo_users
from core.domain.roles import Actor
from core.localnet import free_port
from core.settings import PROJECT_ROOT
from tests.app.seed import flagged_item
from tests.browser import CHROMIUM, CHROMIUM_ARGS, every, open_next, require_chromium, shot, wait_until_healthy
from tests.conftest import TEST_AUDIT_KEY, make_settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    settings = make_settings(tmp)
    migrate(settings.database_url)
    app = build(settings)
    ensure_demo_users(app.db, app.uow)
    flagged_item(app, 1, risk="high", file_name="passport_scan_<b>1</b>.jpg")
    flagged_item(app, 2, risk="medium", file_name="utility_bill_2.jpg", source_object="KYC_Check__c")
    flagged_item(app, 3, risk="high", file_name="selfie_3.jpg")
    status.publish(app.db, "salesforce_api", {"used": 12_400, "limit": 100_000})
    incidents.declare_incident(app.uow(), actor=Actor("responder@demo.responsedesk.local", "responder"),
                               title="Forged passports on onboarding", severity="SEV2")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "RD_VAR_DIR": str(tmp),
           "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(), "RD_DEMO": "true"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until_healthy(f"http://127.0.0.1:{port}")
    # a running worker's heartbeat: the Live page says "Worker down" once it goes stale
    with every(2, lambda: status.publish(app.db, "worker:browser-test", {})):
        yield f"http://127.0.0.1:{port}", proc
    app.db.dispose()
    proc.terminate()
    output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser, base: str, role: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(20_000)
    page.goto(base)
    page.get_by_role("button", name=f"{role}@demo.responsedesk.local").click()
    page.get_by_text(f"Sign out ({role}@demo.responsedesk.local)").wait_for()  # on the role's own first page
    return page


def test_reviewer_confirms_one_item_and_releases_another(server, browser):
    base, _ = server
    page = sign_in(browser, base, "reviewer")
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("heading", name="Review queue").wait_for()
    open_next(page, 1)
    page.get_by_text("File name: passport_scan_<b>1</b>.jpg").wait_for()  # shown as text, not markup
    page.get_by_text("Item 1 is yours to review.").wait_for()  # opening it claimed it
    shot(page, "review-item")
    page.get_by_role("button", name="Confirm synthetic…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Confirm synthetic").wait_for()
    shot(page, "review-confirm-dialog")
    dialog.get_by_role("button", name="Confirm synthetic").click()
    try:
        page.get_by_text("Item 1 confirmed synthetic").wait_for()
    except Exception:
        shot(page, "failure")
        raise
    page.get_by_role("heading", name="Item 2").wait_for()  # straight on to the next item, claimed
    page.get_by_text("Item 2 is yours to review.").wait_for()
    page.get_by_role("button", name="Release…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Note (required for 'other')").fill("customer sent the original bill")
    dialog.get_by_role("button", name="Release").click()
    page.get_by_text("Item 2 released").wait_for()
    shot(page, "review-after-release")
    assert page.locator("b").count() == 0  # the file name's markup was never rendered as markup


def test_responder_sees_the_live_page(server, browser):
    base, _ = server
    page = sign_in(browser, base, "responder")
    page.get_by_text("Verified, last hour").wait_for()
    page.get_by_text("Recent high-risk detections").wait_for()
    page.get_by_text("Forged passports on onboarding", exact=False).wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(1500)  # let the chart finish drawing
    assert page.get_by_text("Worker down").count() == 0
    path = shot(page, "live")
    if os.environ.get("RD_UPDATE_README_SCREENSHOT"):  # never rewrite tracked files on a plain test run
        shutil.copyfile(path, PROJECT_ROOT / "docs" / "screenshot-live.png")
