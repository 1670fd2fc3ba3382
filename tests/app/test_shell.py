"""AppTest renders the frame and every page, for every role, without an exception."""
import pytest
from streamlit.testing.v1 import AppTest

from core.commands import items
from core.commands.users import demo_email
from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.domain.scan import ScanOutcome
from core.settings import PROJECT_ROOT

PAGES = ["pages/live.py", "pages/review.py", "pages/incidents.py", "pages/communications.py",
         "pages/trends.py", "pages/audit.py", "pages/settings.py", "pages/check_file.py"]


def signed_in(role: Role) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    at.button(key=f"signin-{demo_email(role)}").click().run()
    assert not at.exception
    return at


def test_sign_in_page_lists_a_demo_user_per_role_and_signs_in(ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Response Desk"]
    assert {b.key for b in at.button if (b.key or "").startswith("signin-")} == {
        f"signin-{demo_email(r)}" for r in HUMAN_ROLES}
    at.button(key=f"signin-{demo_email(Role.RESPONDER)}").click().run()
    assert [t.value for t in at.title] == ["Live"]


# Each page in each role's navigation (which pages those are is tested in test_access.py).
VISIBLE = [(role, page) for role in HUMAN_ROLES for page in PAGES
           if page != "pages/settings.py" or role in (Role.ADMIN, Role.AUDITOR)]


@pytest.mark.parametrize(("role", "page"), VISIBLE)
def test_every_page_renders_for_every_role(ui_app, role, page):
    at = signed_in(role)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    titles = [t.value for t in at.title]
    assert titles, f"{page} rendered no title"


def test_live_page_counts_come_from_the_database(ui_app):
    system = Actor.system()
    for n in range(3):
        item = items.register_item(ui_app.uow(), actor=system, source="api", external_id=f"f{n}",
                                   file_name=f"f{n}.jpg")
        items.begin_scan(ui_app.uow(), actor=system, item_id=item)
        if n < 2:
            items.record_scan_result(ui_app.uow(), actor=system, item_id=item,
                                     outcome=ScanOutcome(risk="high", reasons=("test",)))
    at = signed_in(Role.RESPONDER)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Verified, last hour"] == "2"
    assert metrics["Awaiting review"] == "2"
    assert metrics["Waiting for a verdict"] == "1"


def test_audit_page_lists_events_and_chain_status(ui_app):
    items.register_item(ui_app.uow(), actor=Actor.system(), source="api", external_id="audited",
                        file_name="<script>alert(1)</script>.jpg")
    at = signed_in(Role.AUDITOR)
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert "Chain intact" in at.success[0].value
    events = at.dataframe[0].value
    assert "Item registered" in set(events["action"])  # in words
    assert "Account created" in set(events["action"])
