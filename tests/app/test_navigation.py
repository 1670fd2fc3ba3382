"""Where each role lands and what the navigation counts (ui/navigation.py), from the counts the
database gives (core/queries/waiting.py): what waits for this person, never their own requests."""
from datetime import timedelta

import pytest

from core.clock import utcnow
from core.commands import communications, incidents, items
from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.queries.waiting import Waiting, waiting_for
from tests.app.seed import flagged_item
from tests.conftest import accounts
from ui.navigation import ALL_PAGES, landing, refusal, title

RITA, LEO = Actor("rita@firm.test", Role.REVIEWER), Actor("leo@firm.test", Role.COMPLIANCE_LEAD)
RUTH = Actor("ruth@firm.test", Role.RESPONDER)
_accounts = accounts(RITA, LEO, RUTH)
SPEC = {p.path: p for p in ALL_PAGES}


@pytest.mark.parametrize(("role", "waiting", "page"), [
    (Role.REVIEWER, Waiting(), "pages/review.py"),
    (Role.COMPLIANCE_LEAD, Waiting(), "pages/communications.py"),
    (Role.COMPLIANCE_LEAD, Waiting(releases_to_approve=1), "pages/review.py"),
    (Role.COMPLIANCE_LEAD, Waiting(releases_to_approve=1, messages_to_approve=1), "pages/communications.py"),
    (Role.RESPONDER, Waiting(clocks_due_soon=2), "pages/live.py"),
    (Role.RESPONDER, Waiting(clocks_overdue=1), "pages/incidents.py"),
    (Role.ADMIN, Waiting(), "pages/settings.py"),
    (Role.AUDITOR, Waiting(), "pages/audit.py"),
])
def test_each_role_lands_where_its_work_waits(role, waiting, page):
    assert landing(role, waiting) == page


def test_titles_carry_what_waits_in_words_and_nothing_when_nothing_waits():
    assert title(SPEC["pages/review.py"], Waiting()) == "Review queue"
    assert title(SPEC["pages/review.py"], Waiting(to_claim=3, releases_to_approve=1)) == \
        "Review queue · 3 to claim, 1 to approve"
    assert title(SPEC["pages/incidents.py"], Waiting(clocks_overdue=1)) == "Incidents · 1 overdue"
    assert title(SPEC["pages/live.py"], Waiting(to_claim=3)) == "Live"


def test_a_page_the_role_may_not_open_says_who_may():
    assert refusal("settings", Role.REVIEWER) == ("Settings is open to admins and auditors only. You are signed in as "
                                                   "reviewer: your pages are in the menu on the left.")
    assert all(refusal(p.url_path, role) is None for role in HUMAN_ROLES for p in ALL_PAGES if role in p.roles)
    assert refusal("no-such-page", Role.REVIEWER) is None  # Streamlit's own answer for a page that is not ours


def test_the_counts_are_what_waits_for_this_person_not_their_own_requests(ui_app):
    for n in (1, 2, 3):
        flagged_item(ui_app, n, risk="high")
    items.start_review(ui_app.uow(), actor=RITA, item_id=1)
    items.request_release(ui_app.uow(), actor=RITA, item_id=1, reason_code="false_positive")
    items.start_review(ui_app.uow(), actor=LEO, item_id=2)
    items.request_release(ui_app.uow(), actor=LEO, item_id=2, reason_code="false_positive")
    incident = incidents.declare_incident(ui_app.uow(), actor=RUTH, title="Forged IDs", severity="SEV1",
                                          aware_at=utcnow() - timedelta(days=4))
    communications.ensure_demo_contacts(ui_app.uow)
    draft = communications.create_draft(ui_app.uow(), actor=RUTH, incident_id=incident, template="regulator_initial",
                                        idempotency_key="notice-1")
    communications.request_approval(ui_app.uow(), actor=RUTH, communication_id=draft)
    assert waiting_for(ui_app.db, person=RITA.id, role=Role.REVIEWER) == Waiting(to_claim=1)
    assert waiting_for(ui_app.db, person=LEO.id, role=Role.COMPLIANCE_LEAD) == Waiting(
        to_claim=1, releases_to_approve=1, messages_to_approve=1)  # Rita's release, not Leo's own
    for_ruth = waiting_for(ui_app.db, person=RUTH.id, role=Role.RESPONDER)
    assert for_ruth.clocks_overdue >= 1 and for_ruth.to_claim == 0
    assert waiting_for(ui_app.db, person="admin@firm.test", role=Role.ADMIN) == Waiting()
