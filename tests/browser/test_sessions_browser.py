"""The console the way people use a browser, against one `streamlit run dashboard.py` in headless
Chromium: a link from an email survives sign-in and opens its item; a reload and a second tab keep the
session (an HTTP-only, SameSite=Strict cookie); a sign-out in one tab ends the other at its next
action; the idle limit still ends a session, everywhere; each role lands on its work; a page the role
may not open says so in words; and no page asks any host but the server for anything.

Prints the clicks and seconds a reviewer needs from an emailed link to a confirmed item."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core.bootstrap import build, migrate
from core.clock import utcnow
from core.commands import incidents
from core.commands.auth import hash_password
from core.commands.users import create_user, demo_email, ensure_demo_users
from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.models import AuditEvent
from core.queries.waiting import waiting_for
from tests.app.seed import flagged_item
from tests.browser import chromium, dashboard, hosts_asked, open_page, require_chromium, session_cookie, settled, shot
from tests.conftest import TEST_AUDIT_KEY, make_settings
from tests.session_clock import age_sessions
from ui.navigation import ALL_PAGES, pages_for

pytestmark = pytest.mark.browser
READER, PASSWORD = "lena@firm.test", "reviewer's own long password"
LANDING_HEADING = {Role.RESPONDER: "Incidents", Role.REVIEWER: "Review queue", Role.COMPLIANCE_LEAD: "Communications",
                   Role.ADMIN: "Settings", Role.AUDITOR: "Audit trail"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("sessions")
    settings = make_settings(tmp)
    migrate(settings.database_url)
    app = build(settings)
    ensure_demo_users(app.db, app.uow)
    for n in (1, 2, 3):
        flagged_item(app, n, risk="medium", file_name=f"selfie_{n}.jpg")
    create_user(app.uow(), actor=Actor.system("test"), email=READER, role=Role.REVIEWER,
                password_hash=hash_password(PASSWORD))
    # Declared four days ago: the GDPR 72-hour clock is overdue, so a responder lands on Incidents.
    responder = Actor(demo_email(Role.RESPONDER), Role.RESPONDER)
    incidents.declare_incident(app.uow(), actor=responder, title="Forged passports", severity="SEV1",
                               aware_at=utcnow() - timedelta(days=4))
    assert waiting_for(app.db, person=responder.id, role=Role.RESPONDER).clocks_overdue
    env = {"DATABASE_URL": settings.database_url, "RD_VAR_DIR": str(tmp), "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(),
           "RD_DEMO": "true", "RD_SECRETS_FILE": str(tmp / "no-secrets.toml")}
    with dashboard(env) as base:
        yield base, app
    app.db.dispose()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as chromium_browser:
        yield chromium_browser


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    yield context
    context.close()


def signed_in_as(page, who: str) -> None:
    page.get_by_text(f"Sign out ({who})").wait_for()


def password_sign_in(page) -> None:
    page.get_by_label("Email").fill(READER)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def demo_sign_in(context, base: str, role: Role):
    page = context.new_page()
    page.goto(base)
    page.get_by_role("button", name=demo_email(role)).click()
    signed_in_as(page, demo_email(role))
    return page


def sign_outs(app, who: str) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "auth.signed_out",
                                                       AuditEvent.actor == who)).scalars())


# First in the module: the very first request the fresh server sees is a deep link.
def test_a_signed_out_deep_link_asks_for_sign_in_then_opens_its_item(server, context):
    base, app = server
    page = context.new_page()
    outside = hosts_asked(page, base)
    clicks, started = 0, time.monotonic()
    page.goto(f"{base}/review?item=2")
    page.get_by_label("Email").wait_for()
    assert page.get_by_text("Page not found").count() == 0 and page.url.endswith("/review?item=2")
    shot(page, "deep-link-sign-in")
    password_sign_in(page)
    clicks += 1
    page.get_by_role("heading", name="Item 2").wait_for()  # the item the link pointed to, nothing in between
    claim, confirm = page.get_by_role("button", name="Claim"), page.get_by_role("button", name="Confirm synthetic…")
    claim.or_(confirm).first.wait_for()
    if claim.count():  # opening may claim it already (the review page's own rule)
        claim.click()
        clicks += 1
    confirm.click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm synthetic").click()
    clicks += 2
    page.get_by_text("Item 2 confirmed synthetic").first.wait_for()
    seconds = time.monotonic() - started
    shot(page, "deep-link-confirmed")
    print(f"\nreviewer from an emailed link to a confirmed item: {clicks} clicks, {seconds:.1f} s")
    assert outside == []


def test_a_deep_link_to_an_incident_opens_that_incident_after_sign_in(server, context):
    base, _ = server
    page = context.new_page()
    page.goto(f"{base}/incidents?incident=1")
    page.get_by_role("button", name=demo_email(Role.RESPONDER)).click()
    page.get_by_role("heading", name="INC-0001", exact=False).wait_for()
    assert page.get_by_text("Page not found").count() == 0


def test_a_reload_and_a_second_tab_keep_the_session_in_an_http_only_cookie(server, context):
    base, _ = server
    page = demo_sign_in(context, base, Role.REVIEWER)
    cookie = session_cookie(context)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "rd_session" not in page.evaluate("document.cookie")  # no script on the page can read it
    page.reload()
    signed_in_as(page, demo_email(Role.REVIEWER))
    second = context.new_page()
    second.goto(f"{base}/review?item=3")  # a link to the page the reviewer lands on, in a second tab
    signed_in_as(second, demo_email(Role.REVIEWER))
    second.get_by_role("heading", name="Item 3").wait_for()
    assert second.get_by_text("Page not found").count() == 0
    settled(second)
    shot(second, "second-tab-signed-in")


@contextmanager
def webmail(tmp_path, link: str) -> Iterator[str]:
    """A page on another site (localhost is not the same site as 127.0.0.1) holding one link, as an
    email in a webmail tab would: following it is a cross-site navigation."""
    (tmp_path / "mail.html").write_text(f'<html><body><a id="link" href="{link}">Review item 3</a></body></html>')
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as http:
        threading.Thread(target=http.serve_forever, daemon=True).start()
        yield f"http://localhost:{http.server_address[1]}/mail.html"
        http.shutdown()


def test_a_link_from_another_site_opens_its_item_in_the_session(server, context, tmp_path):
    """SameSite=Strict keeps the cookie off the cross-site page request itself, but the page's own
    connection back to the server (same site) carries it: the email's link opens in the session."""
    base, _ = server
    demo_sign_in(context, base, Role.REVIEWER)
    assert session_cookie(context)
    with webmail(tmp_path, f"{base}/review?item=3") as mail:
        page = context.new_page()
        page.goto(mail)
        page.locator("#link").click()
        page.wait_for_url(f"{base}/review?item=3")
        page.get_by_role("heading", name="Item 3").wait_for()
        signed_in_as(page, demo_email(Role.REVIEWER))


def test_sign_out_in_one_tab_ends_the_other_at_its_next_action(server, context):
    base, app = server
    first = demo_sign_in(context, base, Role.AUDITOR)
    assert session_cookie(context)
    second = context.new_page()
    second.goto(f"{base}/trends")
    signed_in_as(second, demo_email(Role.AUDITOR))
    before = len(sign_outs(app, demo_email(Role.AUDITOR)))
    first.get_by_role("link", name=f"Sign out ({demo_email(Role.AUDITOR)})").click()
    first.get_by_text("You are signed out.").wait_for()
    second.get_by_role("link", name="Live").click()  # the other tab's next action
    second.get_by_text("You signed out").wait_for()
    second.get_by_label("Email").wait_for()
    shot(second, "other-tab-signed-out")
    assert [e.reason for e in sign_outs(app, demo_email(Role.AUDITOR))][before:] == ["signed out"]  # once
    third = context.new_page()
    third.goto(base)  # the cookie names an ended session: nobody is signed in
    third.get_by_label("Email").wait_for()
    assert third.get_by_text("Sign out (").count() == 0


def test_the_idle_limit_still_ends_the_session_in_every_tab(server, context):
    base, app = server
    who = demo_email(Role.COMPLIANCE_LEAD)
    page = demo_sign_in(context, base, Role.COMPLIANCE_LEAD)
    assert session_cookie(context)
    settled(page)
    assert age_sessions(app, who, idle=timedelta(minutes=31)) == 1  # as if the person had left for 31 minutes
    page.get_by_role("link", name="Trends").click()
    page.get_by_text("signed out after 30 minutes without activity").wait_for()
    assert [e.reason for e in sign_outs(app, who)][-1:] == ["idle timeout"]
    again = context.new_page()
    again.goto(f"{base}/trends")  # a reload does not bring an idle session back
    again.get_by_label("Email").wait_for()
    assert again.get_by_text("Sign out (").count() == 0


def test_a_role_without_settings_reads_why_instead_of_page_not_found(server, context):
    base, _ = server
    page = demo_sign_in(context, base, Role.REVIEWER)
    assert session_cookie(context)
    page.goto(f"{base}/settings")
    page.get_by_text("Settings is open to admins and auditors only").wait_for()
    assert page.get_by_text("Page not found").count() == 0 and page.get_by_text("Save thresholds").count() == 0
    shot(page, "reviewer-opens-settings")


def test_each_role_lands_on_its_work_and_no_page_asks_another_host(server, browser):
    """Every page in every role's navigation, and the sign-in page: the browser's requests are all to
    the server (icons and fonts included). Each role's first page is where its work waits, with the
    count in the navigation."""
    base, _ = server
    asked: dict[str, list[str]] = {}
    for role in HUMAN_ROLES:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.set_default_timeout(30_000)
        page = context.new_page()
        asked[role.value] = hosts_asked(page, base)
        page.goto(base)
        page.get_by_role("button", name=demo_email(role)).click()
        page.get_by_role("heading", name=LANDING_HEADING[role]).first.wait_for()
        settled(page)
        for spec in (p for pages in pages_for(role).values() for p in pages):
            open_page(page, spec)
            settled(page)
        favicon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
        assert favicon.startswith(base), favicon
        if role is Role.REVIEWER:
            assert page.get_by_role("link", name="Review queue ·").first.inner_text().endswith("to claim")
        if role is Role.RESPONDER:
            assert page.get_by_role("link", name="Incidents ·").first.inner_text().endswith("overdue")
        context.close()
    assert {role: urls for role, urls in asked.items() if urls} == {}
    assert len(ALL_PAGES) == 8
