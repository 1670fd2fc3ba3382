"""The console's everyday flows in a real browser against one `streamlit run dashboard.py`: the review flow
without dead ends (open next skips what the reviewer cannot act on, a row selected after a decision
opens that item), a refused dialog that keeps its input, a regulator notice that asks before it
leaves; and how many clicks and seconds a reviewer needs to confirm an item and a responder to
declare an incident and alert compliance (printed, not asserted against a clock). The tests run in
order against one server. Screenshots go to tests/browser/screenshots/."""
from __future__ import annotations

import time

import pytest

from core.adapters import worker_state as status
from core.bootstrap import build, migrate
from core.commands import communications, incidents, items
from core.commands.users import demo_email, ensure_demo_users
from core.domain.roles import Actor, Role
from core.loops.mail_relay import mail_relay_for
from core.queries import incidents as messages
from core.queries import items as item_queries
from core.settings import load_settings
from tests.app.seed import flagged_item
from tests.browser import chromium, dashboard, every, open_next, require_chromium, settled, shot
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.test_smtp import local_smtp

pytestmark = pytest.mark.browser


LEAD, REVIEWER, RESPONDER = (Actor(demo_email(r), r) for r in (Role.COMPLIANCE_LEAD, Role.REVIEWER, Role.RESPONDER))
REGULATOR_MESSAGE: dict = {}


def seed(app) -> None:
    """Six held files, oldest first: 1 held by the compliance lead, 2 with the reviewer's own release
    waiting for a second approver, 3-6 free; an incident with a regulator notice approved for sending."""
    for n in range(1, 7):
        flagged_item(app, n, risk="high" if n in (1, 2, 3, 5) else "medium", file_name=f"passport_{n}.jpg")
    items.start_review(app.uow(), actor=LEAD, item_id=1)
    items.start_review(app.uow(), actor=REVIEWER, item_id=2)
    items.request_release(app.uow(), actor=REVIEWER, item_id=2, reason_code="false_positive")
    communications.ensure_demo_contacts(app.uow)
    incident = incidents.declare_incident(app.uow(), actor=RESPONDER, title="Forged passports", severity="SEV1",
                                          item_ids=[1])
    REGULATOR_MESSAGE["id"] = communications.create_draft(
        app.uow(), actor=RESPONDER, incident_id=incident, template="regulator_initial", idempotency_key="reg-1",
        channel="email")
    communications.approve(app.uow(), actor=LEAD, communication_id=REGULATOR_MESSAGE["id"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("flows")
    with local_smtp(tmp) as smtp:
        env = {"DATABASE_URL": f"sqlite:///{tmp / 'rd.db'}", "RD_VAR_DIR": str(tmp),
               "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(), "RD_DEMO": "true", **smtp.env()}
        migrate(env["DATABASE_URL"])
        with pytest.MonkeyPatch.context() as environ:  # the settings the server reads, for the relay here
            for key, value in env.items():
                environ.setenv(key, value)
            app = build(load_settings())
        ensure_demo_users(app.db, app.uow)
        seed(app)
        status.publish(app.db, "worker:browser-test", {})
        relay = mail_relay_for(app, owner="browser-test")  # what the worker's mail loop does
        try:
            with every(0.3, relay.run_once), dashboard(env) as base:
                yield base, app, smtp
        finally:
            app.db.dispose()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def go(page, title: str, clicks=None) -> None:
    """Open a page from the navigation and wait for its title (clicked again if a rerun swallowed it)."""
    for _ in range(3):
        (clicks or (lambda locator: locator.click()))(page.get_by_role("link", name=title))
        try:
            page.get_by_role("heading", name=title, exact=True).wait_for(timeout=15_000)
            settled(page)  # the navigation's own rerun is over: a click now is not swallowed by it
            return
        except Exception:
            continue
    shot(page, f"failed-to-open-{title}")
    raise AssertionError(f"the {title} page did not open")


def sign_in(browser, base: str, role: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(base)
    page.get_by_role("button", name=f"{role}@demo.responsedesk.local").click()
    try:
        page.get_by_text(f"Signed in as {role}@demo.responsedesk.local").wait_for()  # on the role's landing page
    except Exception:
        shot(page, f"sign-in-failed-{role}")
        raise
    page.wait_for_load_state("networkidle")  # the sign-in's own follow-up (the session cookie) is done
    return page


class Clicks:
    """Counts the clicks of a flow and the seconds from its first click."""

    def __init__(self):
        self.count, self.started = 0, None

    def __call__(self, locator) -> None:
        self.started = self.started or time.monotonic()
        locator.click()
        self.count += 1

    def seconds(self) -> float:
        return time.monotonic() - self.started


def select_row(page, table: str, row: int) -> None:
    """Tick a row's selection box in a Streamlit table (a canvas grid: rows are 35 px under a 35 px header)."""
    grid = page.locator(f"[class*='st-key-{table}']").first
    grid.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)  # a fresh grid takes the pointer only once it has drawn
    box = grid.bounding_box()
    x, y = box["x"] + 18, box["y"] + 35 + 35 * row + 17
    page.mouse.click(x, y)


def queue_row(app, item_id: int) -> int:
    """Where an item sits in the review queue as the page lists it (oldest first)."""
    return [int(i) for i in item_queries.review_queue(app.db)["id"]].index(item_id)


def opened(page, item_id: int):
    heading = page.get_by_role("heading", name=f"Item {item_id}", exact=True)
    try:
        heading.wait_for()
    except Exception:
        shot(page, f"failed-to-open-{item_id}")
        raise
    return heading


def test_reviewer_confirms_an_item_and_open_next_skips_what_they_cannot_act_on(server, browser):
    base, _, _ = server
    page = sign_in(browser, base, "reviewer")
    click = Clicks()
    go(page, "Review queue", click)
    open_next(page, 3, click)  # not 1 (the lead holds it) nor 2 (its release waits for a second approver)
    click(page.get_by_role("button", name="Confirm synthetic…"))  # opening it claimed it: no Claim click
    click(page.get_by_role("dialog").get_by_role("button", name="Confirm synthetic"))
    page.get_by_text("Item 3 confirmed synthetic").wait_for()
    seconds = click.seconds()
    shot(page, "flow-reviewer-confirmed")
    print(f"\nreviewer confirms an item: {click.count} clicks, {seconds:.1f} s")
    opened(page, 4)  # straight on to the next item the reviewer can act on, claimed
    assert page.get_by_role("button", name="Confirm synthetic…").is_visible()


def test_selecting_a_row_after_a_decision_opens_that_item(server, browser):
    base, app, _ = server
    page = sign_in(browser, base, "reviewer")
    go(page, "Review queue")
    open_next(page, 4)  # their own claimed item first
    page.get_by_role("button", name="Release…").click()
    page.get_by_role("dialog").get_by_role("button", name="Release").click()
    page.get_by_text("Item 4 released").wait_for()
    opened(page, 5)
    select_row(page, "queue-table", queue_row(app, 6))
    opened(page, 6)
    select_row(page, "queue-table", queue_row(app, 5))
    opened(page, 5)
    shot(page, "flow-row-selected")
    assert page.get_by_role("heading", name="Item 6", exact=True).count() == 0


def test_sending_to_a_regulator_asks_for_confirmation_naming_recipients_and_clock(server, browser):
    base, app, _ = server
    page = sign_in(browser, base, "responder")
    go(page, "Communications")
    page.get_by_role("button", name="Send…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("GDPR: notify the supervisory authority").wait_for()
    dialog.get_by_text("• breach-notification@dpa.example").wait_for()
    shot(page, "flow-regulator-confirmation")
    assert messages.communication(app.db, REGULATOR_MESSAGE["id"])["status"] == "approved"  # nothing sent yet
    dialog.get_by_role("button", name="Send now").click()
    page.get_by_role("button", name="Sent").wait_for()
    assert page.get_by_role("button", name="Sent").is_disabled()
    assert messages.communication(app.db, REGULATOR_MESSAGE["id"])["status"] in ("sending", "sent")


def test_a_refused_dialog_keeps_its_input_and_shows_the_error_inside(server, browser):
    base, app, _ = server
    page = sign_in(browser, base, "responder")
    go(page, "Review queue")
    select_row(page, "queue-table", queue_row(app, 6))
    opened(page, 6)
    page.get_by_role("button", name="Escalate…").click()
    dialog = page.get_by_role("dialog")
    summary = dialog.get_by_label("Summary")
    summary.fill("The customer called about a passport they never sent.")
    dialog.get_by_role("button", name="Declare incident").click()
    dialog.get_by_text("An incident needs a title").wait_for()  # inside the dialog, which stays open
    shot(page, "flow-dialog-error")
    assert summary.input_value() == "The customer called about a passport they never sent."
    dialog.get_by_label("Title").fill("Forged passport reported by phone")
    dialog.get_by_role("button", name="Declare incident").click()
    page.get_by_text("declared with item 6").wait_for()
    assert page.get_by_role("dialog").count() == 0


def test_responder_declares_an_incident_and_alerts_compliance(server, browser):
    base, _, smtp = server
    page = sign_in(browser, base, "responder")
    click = Clicks()
    go(page, "Incidents", click)
    click(page.get_by_role("button", name="Declare and alert compliance"))
    click(page.get_by_role("button", name="Send alert to compliance"))
    page.get_by_text("Compliance alert sent: delivered to 2 recipient(s).").wait_for(timeout=60_000)
    seconds = click.seconds()
    shot(page, "flow-responder-alerted")
    print(f"\nresponder declares an incident and alerts compliance: {click.count} clicks, {seconds:.1f} s")
    assert {"compliance-oncall@harborvale.example", "dpo@harborvale.example"} <= {
        e["rcpt_tos"][0] for e in smtp.inbox.envelopes}

