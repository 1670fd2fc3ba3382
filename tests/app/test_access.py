"""Sign-in and sessions in the app (AppTest): passwords, lockout, sign-out, idle timeout, single
sign-on with the role from the identity provider's claims, and which pages each role can reach."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core import bootstrap, settings
from core.clock import utcnow
from core.commands import users
from core.commands.auth import MAX_FAILED_SIGN_INS, REFUSED, hash_password
from core.commands.users import create_user, demo_email
from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.models import AuditEvent
from core.settings import PROJECT_ROOT
from tests.conftest import enroll
from tests.session_clock import age_sessions, sessions_of
from ui.navigation import pages_for

PASSWORD = "a long enough password"
PAGES = ["pages/live.py", "pages/incidents.py", "pages/communications.py", "pages/check_file.py",
         "pages/review.py", "pages/trends.py", "pages/audit.py", "pages/settings.py"]
SETTINGS_ROLES = {Role.ADMIN, Role.AUDITOR}
# Where each role lands with nothing waiting (ui/navigation.py landing): its own work first.
LANDING_TITLE = {Role.RESPONDER: "Live", Role.REVIEWER: "Review queue", Role.COMPLIANCE_LEAD: "Communications",
                 Role.ADMIN: "Settings", Role.AUDITOR: "Audit trail"}


def fresh() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def password_sign_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input(key="si-email").input(email)
    at.text_input(key="si-password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def audit(app, action: str) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).scalars())


def admin(app) -> Actor:
    """An admin with an account: services read the acting person's role from it."""
    actor = Actor("admin@firm.test", Role.ADMIN)
    enroll(app, actor)
    return actor


@pytest.fixture
def lead(ui_app) -> str:
    create_user(ui_app.uow(), actor=Actor.system("test"), email="lead@firm.test", role=Role.COMPLIANCE_LEAD,
                password_hash=hash_password(PASSWORD))
    return "lead@firm.test"


def test_password_sign_in_lands_where_the_role_works_opens_a_server_session_and_is_audited(ui_app, lead):
    at = password_sign_in(fresh(), lead, PASSWORD)
    assert titles(at) == ["Communications"] and at.session_state["user_email"] == lead
    assert at.session_state["user_role"] == "compliance_lead"
    assert "si-password" not in at.session_state or at.session_state["si-password"] == ""
    [event] = audit(ui_app, "auth.signed_in")
    assert event.actor == lead and PASSWORD not in (event.after or "")
    [session] = sessions_of(ui_app, lead)  # the tab holds its id; the browser is handed a one-time handoff
    assert at.session_state["session_id"] == session.id and session.method == "password"
    assert session.handoff_digest and session.token_digest is None and session.revoked_at is None


def test_wrong_password_is_refused_and_audited_without_the_password(ui_app, lead):
    at = password_sign_in(fresh(), lead, "wrong password!!")
    assert titles(at) == ["Response Desk"] and at.error[0].value == REFUSED
    assert "user_email" not in at.session_state
    [event] = audit(ui_app, "auth.sign_in_failed")
    assert event.reason == "wrong password" and "wrong password!!" not in (event.after or "")


def test_lockout_after_repeated_failures_refuses_even_the_right_password(ui_app, lead):
    at = fresh()
    for _ in range(MAX_FAILED_SIGN_INS):
        password_sign_in(at, lead, "wrong password!!")
    assert "locked" in at.error[0].value
    password_sign_in(at, lead, PASSWORD)
    assert titles(at) == ["Response Desk"] and at.error[0].value == REFUSED  # says nothing of who exists
    assert len(audit(ui_app, "auth.locked_out")) == 1
    users.unlock(ui_app.uow(), actor=admin(ui_app), email=lead, reason="called back")
    password_sign_in(at, lead, PASSWORD)
    assert titles(at) == ["Communications"]


def test_sign_out_returns_to_sign_in_ends_the_server_session_and_is_audited(ui_app, lead):
    at = password_sign_in(fresh(), lead, PASSWORD)
    at._page_hash = calc_hash("sign-out")  # the navigation's "Sign out" entry: a page of its own (no file)
    at.run()
    assert titles(at) == ["Response Desk"] and "You are signed out." in at.info[0].value
    assert "user_email" not in at.session_state and "session_id" not in at.session_state
    [event] = audit(ui_app, "auth.signed_out")
    assert event.actor == lead and event.reason == "signed out"
    [session] = sessions_of(ui_app, lead)
    assert session.revoked_at is not None and session.end_reason == "signed out"


def test_idle_session_ends_at_the_next_action(ui_app, lead, monkeypatch):
    at = password_sign_in(fresh(), lead, PASSWORD)
    age_sessions(ui_app, lead, idle=timedelta(minutes=31))
    at.run()
    assert titles(at) == ["Response Desk"]
    assert "signed out after 30 minutes without activity" in at.info[0].value
    assert audit(ui_app, "auth.signed_out")[-1].reason == "idle timeout"
    assert sessions_of(ui_app, lead)[0].end_reason == "idle timeout"  # ended on the server, for every tab


def test_an_active_session_is_not_idle_and_an_action_restarts_its_idle_clock(ui_app, lead):
    at = password_sign_in(fresh(), lead, PASSWORD)
    age_sessions(ui_app, lead, idle=timedelta(minutes=29))
    at.run()
    assert titles(at) == ["Communications"]
    assert utcnow() - sessions_of(ui_app, lead)[0].last_seen_at < timedelta(minutes=1)


def test_session_lifetime_is_capped(ui_app, lead):
    at = password_sign_in(fresh(), lead, PASSWORD)
    age_sessions(ui_app, lead, lived=timedelta(hours=13))
    at.run()
    assert titles(at) == ["Response Desk"] and "at most 12 hours" in at.info[0].value
    assert audit(ui_app, "auth.signed_out")[-1].reason == "session lifetime reached"


def test_role_change_and_deactivation_apply_at_the_next_action(ui_app, lead):
    at = password_sign_in(fresh(), lead, PASSWORD)
    users.set_role(ui_app.uow(), actor=admin(ui_app), email=lead, role=Role.AUDITOR, reason="moved to internal audit")
    at.run()
    assert at.session_state["user_role"] == "auditor"
    users.set_active(ui_app.uow(), actor=admin(ui_app), email=lead, active=False, reason="left the firm")
    at.run()
    assert titles(at) == ["Response Desk"] and "deactivated" in at.info[0].value
    assert password_sign_in(at, lead, PASSWORD).error[0].value == REFUSED


@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_each_role_sees_its_pages_and_no_other(ui_app, role):
    """The navigation offers Settings to admins and auditors only; opened any other way, Settings
    refuses everyone else before anything of it renders; the auditor's view is read-only."""
    offered = {p.path for pages in pages_for(role).values() for p in pages}
    assert offered == set(PAGES) - ({"pages/settings.py"} if role not in SETTINGS_ROLES else set())
    at = fresh()
    at.button(key=f"signin-{demo_email(role)}").click().run()
    assert titles(at) == [LANDING_TITLE[role]]
    at.switch_page("pages/settings.py").run()  # registered for every role (hidden): its address never "not found"
    assert not at.exception
    if role not in SETTINGS_ROLES:
        assert titles(at) == [] and not at.dataframe and "Settings are for admins" in at.error[0].value
        return
    assert titles(at) == ["Settings"]
    saves = [b for b in at.button if "Save thresholds" in b.label]
    assert saves and all(b.disabled == (role is Role.AUDITOR) for b in saves)
    assert any("Read-only" in c.value for c in at.caption) == (role is Role.AUDITOR)


def test_signed_out_visitors_see_only_the_sign_in_page(ui_app):
    at = fresh()
    assert titles(at) == ["Response Desk"] and not at.dataframe


def test_demo_sign_in_is_audited(ui_app):
    at = fresh()
    at.button(key=f"signin-{demo_email(Role.REVIEWER)}").click().run()
    [event] = audit(ui_app, "auth.signed_in")
    assert event.actor == demo_email(Role.REVIEWER) and '"demo"' in event.after


SSO_SECRETS = """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "test-cookie-secret-not-a-secret"

[auth.idp]
client_id = "response-desk"
client_secret = "test-client-secret"
server_metadata_url = "https://idp.example.test/.well-known/openid-configuration"

[access]
role_claim = "groups"
sso_label = "Firm SSO"

[access.role_map]
rd-admins = "admin"
rd-reviewers = "reviewer"
rd-responders = "responder"
"""


@pytest.fixture
def sso(ui_app, tmp_path, monkeypatch):
    """Single sign-on configured: demo mode is off (the two are refused together)."""
    path = tmp_path / "secrets.toml"
    path.write_text(SSO_SECRETS)
    monkeypatch.setenv("RD_SECRETS_FILE", str(path))
    monkeypatch.setenv("RD_DEMO", "false")
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()


def sso_user(email: str, groups: list[str], **extra) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": True, "name": email.split("@")[0],
            "groups": groups, "iat": int(time.time()), **extra}


def test_sso_maps_the_group_claim_to_a_role_and_creates_the_account(sso, ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = sso_user("rita@firm.test", ["everyone", "rd-reviewers"])
    at.run()
    assert not at.exception and titles(at) == ["Review queue"]
    assert at.session_state["user_role"] == "reviewer" and at.session_state["session_method"] == "sso"
    [created] = audit(ui_app, "user.created")[-1:]
    assert created.actor == "system:sso" and '"reviewer"' in created.after
    at.switch_page("pages/settings.py").run()  # hidden from a reviewer's menu, and refused when opened
    assert titles(at) == [] and "Settings are for admins" in at.error[0].value


def test_sso_first_matching_group_wins_and_a_changed_claim_changes_the_role(sso, ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = sso_user("sam@firm.test", ["rd-reviewers", "rd-admins"])
    at.run()
    assert at.session_state["user_role"] == "admin"  # rd-admins comes first in the map
    again = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    again.user = sso_user("sam@firm.test", ["rd-responders"])
    again.run()
    assert again.session_state["user_role"] == "responder"
    change = audit(ui_app, "user.role_changed")[-1]
    assert change.actor == "system:sso" and '"admin"' in change.before and '"responder"' in change.after


def test_sso_without_a_mapped_group_is_refused_with_a_reason(sso, ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = sso_user("eve@firm.test", ["everyone"])
    at.run()
    assert titles(at) == ["Response Desk"] and "no Response Desk role" in at.error[0].value
    assert "user_email" not in at.session_state
    assert audit(ui_app, "auth.sign_in_failed")[-1].actor == "eve@firm.test"


def test_sso_hides_password_sign_in_and_the_service_refuses_it(sso, ui_app, lead):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button if b.key == "sso-login"] == ["Sign in with Firm SSO"]
    assert not [t for t in at.text_input if t.key == "si-password"]
    from core.commands.auth import SignInRefused, sign_in
    with pytest.raises(SignInRefused, match="password sign-in is off"):
        sign_in(ui_app.uow(), email=lead, password=PASSWORD, access=settings.get_settings().access)


def test_sso_sign_out_clears_the_identity(sso, ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = sso_user("rita@firm.test", ["rd-reviewers"])
    at.run()
    at.session_state["session_seen"] = time.time() - 3600
    at.run()
    assert at.user == {"is_logged_in": False} and "without activity" in at.info[0].value
    assert titles(at) == [] and "user_email" not in at.session_state  # nothing of the page ran
    assert audit(ui_app, "auth.signed_out")[-1].reason == "idle timeout"
    back = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    back.user = at.user  # back from the provider's logout: a new session without the identity cookie
    back.run()
    assert titles(back) == ["Response Desk"] and "user_email" not in back.session_state


def test_a_stale_sso_identity_must_sign_in_again(sso, ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    at.user = sso_user("rita@firm.test", ["rd-reviewers"], iat=int(time.time()) - 13 * 3600)
    at.run()
    assert at.user == {"is_logged_in": False} and "expired" in at.info[0].value
    assert titles(at) == [] and "user_email" not in at.session_state


def test_admin_changes_a_role_and_unlocks_in_settings_people(ui_app, lead):
    at = fresh()
    for _ in range(MAX_FAILED_SIGN_INS):
        password_sign_in(at, lead, "wrong password!!")
    at.button(key=f"signin-{demo_email(Role.ADMIN)}").click().run()
    at.switch_page("pages/settings.py").run()
    at.selectbox(key="p-email").select(lead)
    at.selectbox(key="p-role").select("reviewer")
    at.text_input(key="p-reason").input("covers the review queue this week")
    next(b for b in at.button if b.label == "Change role").click().run()
    assert not at.exception and "Role changed." in [t.value for t in at.toast]
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert "Account unlocked." in [t.value for t in at.toast]
    assert users.active_role(ui_app.db, lead) is Role.REVIEWER
    [change] = audit(ui_app, "user.role_changed")
    assert change.actor == demo_email(Role.ADMIN) and change.reason == "covers the review queue this week"
    assert audit(ui_app, "user.unlocked")[0].actor == demo_email(Role.ADMIN)


def test_admin_cannot_change_their_own_role_in_settings(ui_app):
    at = fresh()
    at.button(key=f"signin-{demo_email(Role.ADMIN)}").click().run()
    at.switch_page("pages/settings.py").run()
    at.selectbox(key="p-email").select(demo_email(Role.ADMIN))
    at.selectbox(key="p-role").select("auditor")
    at.text_input(key="p-reason").input("trying")
    next(b for b in at.button if b.label == "Change role").click().run()
    assert any("nobody changes their own role" in e.value.lower() for e in at.error)  # inside the form
    assert users.active_role(ui_app.db, demo_email(Role.ADMIN)) is Role.ADMIN
