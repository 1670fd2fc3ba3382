"""Sign-in and access control in a real browser against `streamlit run`, with single sign-on through
a real OpenID Connect flow (tests/oidc_idp.py, over HTTPS that the server verifies) and with a local
password account: a reviewer works the queue and cannot reach Settings by URL; an admin can."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from core.bootstrap import build, migrate
from core.commands.auth import hash_password
from core.commands.users import create_user
from core.domain.roles import Actor, Role
from core.localnet import free_port
from core.models import AuditEvent
from core.settings import PROJECT_ROOT
from tests.app.seed import flagged_item
from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_next, require_chromium, session_cookie, shot, wait_until_healthy
from tests.conftest import TEST_AUDIT_KEY, make_settings
from tests.oidc_idp import Client, Provider

pytestmark = pytest.mark.browser
PASSWORD = "reviewer's own long password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("access")
    settings = make_settings(tmp)
    migrate(settings.database_url)
    app = build(settings)
    for n in (1, 2):
        flagged_item(app, n, risk="medium", file_name=f"selfie_{n}.jpg")
    create_user(app.uow(), actor=Actor.system("test"), email="lena@firm.test", role=Role.REVIEWER,
                password_hash=hash_password(PASSWORD))
    port = free_port()
    base = f"http://localhost:{port}"
    with Provider(tmp / "idp") as idp:
        idp.clients["response-desk"] = Client("response-desk", "idp-client-secret", (f"{base}/oauth2callback",))
        idp.people["rita@firm.test"] = {"name": "Rita Reviewer", "groups": ["staff", "rd-reviewers"]}
        idp.people["adam@firm.test"] = {"name": "Adam Admin", "groups": ["rd-admins"]}
        secrets_file = tmp / "secrets.toml"
        secrets_file.write_text(f"""
[auth]
redirect_uri = "{base}/oauth2callback"
cookie_secret = "browser-test-cookie-secret-0123456789"

[auth.firm]
client_id = "response-desk"
client_secret = "idp-client-secret"
server_metadata_url = "{idp.metadata_url}"

[access]
role_claim = "groups"
sso_label = "Firm SSO"
local_accounts = true

[access.role_map]
rd-admins = "admin"
rd-reviewers = "reviewer"
""")
        env = {**os.environ, "DATABASE_URL": settings.database_url, "RD_VAR_DIR": str(tmp),
               "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(), "RD_DEMO": "false", "RD_SECRETS_FILE": str(secrets_file),
               "SSL_CERT_FILE": str(idp.ca_path)}  # the server verifies the provider's certificate
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                                 "--server.port", str(port), "--server.address", "127.0.0.1",
                                 "--secrets.files", str(secrets_file)],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_until_healthy(f"http://127.0.0.1:{port}")
        yield base, app, idp
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    app.db.dispose()
    assert "Traceback" not in output, output
    assert PASSWORD not in output and "idp-client-secret" not in output  # nothing secret in the logs


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The browser does not know the test provider's CA; the Streamlit server verifies it for real.
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, ignore_https_errors=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def sso_sign_in(page, base: str, email: str) -> None:
    page.goto(base)
    page.get_by_role("button", name="Sign in with Firm SSO").click()
    page.get_by_role("heading", name="Test identity provider").wait_for()
    page.get_by_label("Account").select_option(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_text(f"Sign out ({email})").wait_for()


def work_the_queue(page) -> None:
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("heading", name="Review queue", exact=True).wait_for()
    open_next(page, 1)
    claim, confirm = page.get_by_role("button", name="Claim"), page.get_by_role("button", name="Confirm synthetic…")
    claim.or_(confirm).first.wait_for()
    if claim.count():  # opening an item may claim it already
        claim.click()
    confirm.click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm synthetic").click()
    page.get_by_text("Item 1 confirmed synthetic").wait_for()


def events(app, action: str) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_sso_reviewer_works_the_queue_and_cannot_reach_settings_by_url(server, page):
    base, app, _ = server
    sso_sign_in(page, base, "rita@firm.test")
    page.get_by_text("Sign out (rita@firm.test)").wait_for()
    assert page.get_by_role("link", name="Settings").count() == 0
    work_the_queue(page)
    assert [e.actor for e in events(app, "item.confirmed_synthetic")] == ["rita@firm.test"]  # attributed
    page.goto(f"{base}/settings")  # a new page load: the identity cookie keeps the reviewer signed in
    page.get_by_text("Sign out (rita@firm.test)").wait_for()
    page.get_by_text("Settings is open to admins and auditors only").wait_for()  # in words
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("heading", name="Settings").count() == 0
    assert page.get_by_text("Save thresholds").count() == 0
    shot(page, "reviewer-settings-by-url")


def test_sso_admin_reaches_settings_by_url_and_signs_out(server, page):
    base, app, idp = server
    sso_sign_in(page, base, "adam@firm.test")
    page.goto(f"{base}/settings")
    page.get_by_role("heading", name="Settings").wait_for()
    page.get_by_role("link", name="Sign out (adam@firm.test)").click()
    # The browser goes to Streamlit's /auth/logout (which clears the identity cookie), then to the
    # provider's end-session endpoint, which sends it back to the app.
    deadline = time.monotonic() + 20
    while not any("/logout" in line for line in idp.log):
        assert time.monotonic() < deadline, "the browser never reached the provider's logout"
        time.sleep(0.2)
    page.wait_for_load_state()
    page.get_by_role("button", name="Sign in with Firm SSO").wait_for()
    page.goto(base)  # the identity cookie is gone: a reload does not sign anyone back in
    page.get_by_role("button", name="Sign in with Firm SSO").wait_for()
    assert page.get_by_role("heading", name="Live").count() == 0
    assert any(e.actor == "adam@firm.test" and e.reason == "signed out" for e in events(app, "auth.signed_out"))


def test_password_reviewer_cannot_reach_settings_by_url(server, page):
    base, app, _ = server
    page.goto(base)
    page.get_by_label("Email").fill("lena@firm.test")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Review queue").wait_for()  # a reviewer lands on the queue
    assert page.get_by_role("link", name="Settings").count() == 0
    assert session_cookie(page.context)
    page.goto(f"{base}/settings")  # a new page load joins the session through its cookie
    page.get_by_text("Settings is open to admins and auditors only").wait_for()
    assert page.get_by_role("heading", name="Settings").count() == 0
    assert page.get_by_text("Save thresholds").count() == 0
