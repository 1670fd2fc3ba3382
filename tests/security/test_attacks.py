"""Attacks on the product's promises, each tried the way a careless or hostile user would, and
refused: demo mode, messages and regulatory clocks, stale sessions, races on PostgreSQL, sign-in
input. (The scanner child, exports, files at rest and uploads have their own attack files here.)"""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core import settings as settings_module
from core.clock import utcnow
from core.commands import auth, incidents, items, users
from core.commands import communications as comms
from core.commands.auth import MAX_FAILED_SIGN_INS, REFUSED, SignInRefused, hash_password, sign_in
from core.domain.audit_actions import AuditAction
from core.domain.errors import IllegalTransition, PermissionDenied
from core.domain.roles import Actor, Role
from core.models import AuditEvent, Communication, Decision, Incident, MediaItem, User
from core.queries import incidents as q
from core.settings import PROJECT_ROOT, SettingsError
from tests.app.conftest import ui_app  # noqa: F401 (fixture)
from tests.conftest import enroll
from tests.integration.test_incidents_helpers import (
    COMPLIANCE,
    COMPLIANCE_2,
    RESPONDER,
    REVIEWER,
    SYSTEM,
    flagged_items,
    incident_with_items,
)
from tests.session_clock import age_sessions

PASSWORD = "a long enough password"


def events(app, action: str) -> list[AuditEvent]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).scalars())


def race(n: int, fn) -> list:
    """Run fn(i) in n threads released together; each result or the exception it raised."""
    gate, results = threading.Barrier(n), [None] * n

    def one(i):
        gate.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # the outcome under test
            results[i] = exc
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


# -- 1. demo mode is opt-in only ---------------------------------------------------------------------
@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    for name in ("RD_DEMO", "SF_LOGIN_URL", "RD_BIND_ADDRESS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RD_AUDIT_KEY", "test-audit-key-not-a-secret-0123456789")
    monkeypatch.setenv("RD_SECRETS_FILE", str(tmp_path / "secrets.toml"))
    return tmp_path / "secrets.toml"


def test_no_org_configured_is_not_demo_mode(clean_env):
    assert settings_module.load_settings().demo_mode is False


def test_demo_mode_with_single_sign_on_is_refused_at_start_up(clean_env, monkeypatch):
    clean_env.write_text('[auth]\nredirect_uri = "https://rd.firm.test/oauth2callback"\ncookie_secret = "s"\n'
                         '[auth.okta]\nclient_id = "x"\nclient_secret = "y"\n'
                         'server_metadata_url = "https://idp.firm.test/.well-known/openid-configuration"\n'
                         '[access.role_map]\nrd-admins = "admin"\n')
    assert settings_module.load_settings().access.sso  # the file alone is a valid SSO set-up
    monkeypatch.setenv("RD_DEMO", "true")
    with pytest.raises(SettingsError, match="single sign-on"):
        settings_module.load_settings()


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "::"])
def test_demo_mode_on_an_open_address_is_refused(clean_env, monkeypatch, address):
    monkeypatch.setenv("RD_DEMO", "true")
    monkeypatch.setenv("RD_BIND_ADDRESS", address)
    with pytest.raises(SettingsError, match="only on this machine"):
        settings_module.load_settings()


def test_the_launcher_refuses_demo_with_sso_before_starting_anything(clean_env, capsys):
    from core.entrypoints.launcher import run

    clean_env.write_text('[auth]\nredirect_uri = "https://rd.firm.test/oauth2callback"\ncookie_secret = "s"\n'
                         '[auth.okta]\nclient_id = "x"\nclient_secret = "y"\n'
                         'server_metadata_url = "https://idp.firm.test/.well-known/openid-configuration"\n'
                         '[access.role_map]\nrd-admins = "admin"\n')
    settings_module.get_settings.cache_clear()
    try:
        assert run(demo="auto") == 2
    finally:
        settings_module.get_settings.cache_clear()
    assert "single sign-on" in capsys.readouterr().err


def test_demo_accounts_are_deactivated_when_demo_mode_is_off(sqlite_app):
    users.sync_demo_accounts(sqlite_app.db, sqlite_app.uow, demo_mode=True)
    admin = users.demo_email(Role.ADMIN)
    actor = auth.demo_sign_in(sqlite_app.uow(), email=admin, demo_mode=True)
    changed = users.sync_demo_accounts(sqlite_app.db, sqlite_app.uow, demo_mode=False)
    assert admin in changed
    with pytest.raises(SignInRefused):
        auth.demo_sign_in(sqlite_app.uow(), email=admin, demo_mode=False)
    with pytest.raises(PermissionDenied, match="deactivated"):  # a session opened before cannot act
        users.create_user(sqlite_app.uow(), actor=actor, email="new@firm.test", role=Role.REVIEWER)
    assert all(e.reason == users.DEMO_OFF_REASON for e in events(sqlite_app, "user.deactivated"))


def test_demo_sign_in_page_refuses_on_an_open_address(ui_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30)
    import streamlit as st

    before = st.get_option("server.address")
    st.config.set_option("server.address", "0.0.0.0")
    try:
        at.run()
    finally:
        st.config.set_option("server.address", before)
    assert "only this machine" in at.error[0].value and not at.button


# -- 2. messages and clocks cannot be gamed -----------------------------------------------------------
def _draft(app, actor, incident_id, template="compliance_alert", key="d", **kwargs) -> int:
    return comms.create_draft(app.uow(), actor=actor, incident_id=incident_id, template=template,
                              idempotency_key=key, **kwargs)


def test_reviewer_cannot_send_to_an_outside_address_under_an_internal_label(any_app):
    incident_id, _ = incident_with_items(any_app)
    cid = _draft(any_app, REVIEWER, incident_id, recipients=["compliance-oncall@harborvale.example",
                                                             "attacker@evil.example"])
    assert q.communication(any_app.db, cid)["audience"] == "compliance"
    with pytest.raises(PermissionDenied):  # reviewers never send outside the firm
        comms.send(any_app.uow(), actor=REVIEWER, communication_id=cid)
    with pytest.raises(IllegalTransition, match="outside the firm"):  # a responder needs an approval first
        comms.send(any_app.uow(), actor=RESPONDER, communication_id=cid)
    assert q.communication(any_app.db, cid)["status"] == "draft"
    assert events(any_app, "communication.send_requested") == []


def test_internal_domains_and_directory_contacts_stay_internal(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = _draft(sqlite_app, REVIEWER, incident_id, recipients=["compliance-oncall@harborvale.example",
                                                                "analyst@ops.firm.test"])
    assert comms.approval_needed(sqlite_app.db, cid) != []  # firm.test is not allow-listed yet
    assert comms.approval_needed(sqlite_app.db, cid, ["firm.test"]) == []
    assert comms.send(sqlite_app.uow(), actor=REVIEWER, communication_id=cid, internal_domains=["firm.test"]).sent_now


def test_a_clock_rule_on_a_message_to_another_audience_is_refused(any_app):
    incident_id, _ = incident_with_items(any_app)
    with pytest.raises(ValueError, match="stopped by a message to regulator"):
        _draft(any_app, RESPONDER, incident_id, clock_rule="gdpr_art33")
    with pytest.raises(ValueError, match="regulator contact"):  # labelled regulator, addressed to ourselves
        _draft(any_app, RESPONDER, incident_id, template="regulator_initial", key="r",
               recipients=["compliance-oncall@harborvale.example"])
    assert q.incident_clocks(any_app.db, incident_id)[0]["state"] != "met"


def test_only_an_approved_message_to_the_rule_audience_stops_a_clock(any_app):
    incident_id, _ = incident_with_items(any_app)
    # Rows written before these rules, or by hand: sent with a clock rule but never approved, or
    # approved but to another audience. Neither stops the clock.
    with any_app.db.writer() as s:
        for n, (audience, approver) in enumerate((("regulator", None), ("compliance", COMPLIANCE.id))):
            s.add(Communication(incident_id=incident_id, template="regulator_initial", audience=audience,
                                subject="x", recipients=[], status="sent", author=RESPONDER.id, sent_at=utcnow(),
                                approved_by=approver, idempotency_key=f"forged-{n}", clock_rule="gdpr_art33"))
        s.commit()
    gdpr = next(c for c in q.incident_clocks(any_app.db, incident_id) if c["rule_id"] == "gdpr_art33")
    assert gdpr["state"] != "met"


def test_an_out_of_band_submission_stops_a_clock_only_when_a_compliance_lead_records_it(any_app):
    incident_id, _ = incident_with_items(any_app)
    kwargs = dict(incident_id=incident_id, clock_rule="gdpr_art33", submitted_at=utcnow() - timedelta(minutes=5),
                  channel="supervisory authority's breach portal", reference="DPC-2026-0042")
    with pytest.raises(PermissionDenied):
        incidents.record_submission(any_app.uow(), actor=RESPONDER, **kwargs)
    incidents.record_submission(any_app.uow(), actor=COMPLIANCE, **kwargs)
    gdpr = next(c for c in q.incident_clocks(any_app.db, incident_id) if c["rule_id"] == "gdpr_art33")
    assert gdpr["state"] == "met" and events(any_app, "incident.submission_recorded")[0].actor == COMPLIANCE.id


def test_recording_the_classification_again_does_not_restart_the_clocks(any_app):
    incident_id, _ = incident_with_items(any_app)
    first = utcnow() - timedelta(hours=3)
    incidents.record_moments(any_app.uow(), actor=RESPONDER, incident_id=incident_id, classified_at=first,
                             determined_at=first)
    deadline = next(c for c in q.incident_clocks(any_app.db, incident_id) if c["rule_id"] == "dora_initial")["deadline"]
    for moment in ("classified_at", "determined_at", "aware_at"):
        with pytest.raises(PermissionDenied):  # a responder cannot move a legal deadline
            incidents.record_moments(any_app.uow(), actor=RESPONDER, incident_id=incident_id, reason="again",
                                     **{moment: utcnow()})
    with pytest.raises(ValueError, match="needs a reason"):
        incidents.record_moments(any_app.uow(), actor=COMPLIANCE, incident_id=incident_id, classified_at=utcnow())
    clocks = {c["rule_id"]: c for c in q.incident_clocks(any_app.db, incident_id)}
    assert clocks["dora_initial"]["deadline"] == deadline and clocks["nydfs_500_17"]["started_by"] == "determined_at"
    corrected = first - timedelta(hours=1)
    incidents.record_moments(any_app.uow(), actor=COMPLIANCE, incident_id=incident_id, classified_at=corrected,
                             reason="the major classification was made in the 08:00 call, see the minutes")
    [event] = events(any_app, "incident.moments_corrected")
    assert event.actor == COMPLIANCE.id and event.reason.startswith("the major classification")
    assert q.incident(any_app.db, incident_id)["classified_at"] == corrected


# -- 3. session rules apply to actions ----------------------------------------------------------------
def test_a_demoted_or_deactivated_person_cannot_act_with_the_role_their_session_remembers(any_app):
    item_id = flagged_items(any_app, 1)[0]
    admin = Actor("admin@firm.test", Role.ADMIN)
    enroll(any_app, REVIEWER, admin)
    stale = Actor(REVIEWER.id, Role.REVIEWER)  # what an open session still holds
    users.set_role(any_app.uow(), actor=admin, email=REVIEWER.id, role=Role.AUDITOR, reason="moved to audit")
    with pytest.raises(PermissionDenied):
        items.start_review(any_app.uow(), actor=stale, item_id=item_id)
    users.set_role(any_app.uow(), actor=admin, email=REVIEWER.id, role=Role.REVIEWER, reason="back again")
    users.set_active(any_app.uow(), actor=admin, email=REVIEWER.id, active=False, reason="left the firm")
    with pytest.raises(PermissionDenied, match="deactivated"):
        items.start_review(any_app.uow(), actor=stale, item_id=item_id)
    with pytest.raises(PermissionDenied, match="no account"):  # a made-up identity
        items.start_review(any_app.uow(), actor=Actor("nobody@firm.test", Role.COMPLIANCE_LEAD), item_id=item_id)
    with any_app.db.reader() as s:
        assert s.get(MediaItem, item_id).state == "quarantined"


def test_a_command_that_forgets_to_authorise_cannot_write_the_trail(sqlite_app):
    enroll(sqlite_app, REVIEWER)
    uow = sqlite_app.uow()
    with uow, pytest.raises(RuntimeError, match="not authorised"):
        uow.record(REVIEWER, AuditAction.ITEM_CONFIRMED_SYNTHETIC, "media_item", 1)


def test_the_first_click_after_an_idle_timeout_does_nothing(ui_app):
    users.create_user(ui_app.uow(), actor=SYSTEM, email="resp@firm.test", role=Role.RESPONDER,
           password_hash=hash_password(PASSWORD))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    at.text_input(key="si-email").input("resp@firm.test")
    at.text_input(key="si-password").input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("pages/incidents.py").run()
    at.text_input(key="declare_title").input("Idle declaration")
    age_sessions(ui_app, "resp@firm.test", idle=timedelta(minutes=31))  # the session's clocks are on the server
    at.button(key="declare-only").click().run()
    with ui_app.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Incident)).scalar_one() == 0
    assert [t.value for t in at.title] == ["Response Desk"]  # and the session is over
    assert events(ui_app, "auth.signed_out")[-1].reason == "idle timeout"


# -- 4. no lost updates on PostgreSQL -----------------------------------------------------------------
def test_twenty_parallel_wrong_passwords_lock_the_account_exactly(pg_app):
    users.create_user(pg_app.uow(), actor=SYSTEM, email="rita@firm.test", role=Role.REVIEWER,
                      password_hash=hash_password(PASSWORD))
    results = race(20, lambda i: sign_in(pg_app.uow(), email="rita@firm.test", password=f"guess {i}",
                                         client=f"ip:10.0.0.{i}"))
    assert all(isinstance(r, SignInRefused) for r in results)
    wrong = [e for e in events(pg_app, "auth.sign_in_failed") if e.reason == "wrong password"]
    assert len(wrong) == MAX_FAILED_SIGN_INS - 1 and len(events(pg_app, "auth.locked_out")) == 1
    assert sorted(json.loads(e.after)["failed_sign_ins"] for e in wrong) == list(range(1, MAX_FAILED_SIGN_INS))
    locked = [e for e in events(pg_app, "auth.sign_in_failed") if e.reason == "account locked"]
    assert len(locked) == 20 - MAX_FAILED_SIGN_INS
    with pytest.raises(SignInRefused):  # even the right password, until the lock ends
        sign_in(pg_app.uow(), email="rita@firm.test", password=PASSWORD, client="ip:10.0.1.1")


def test_two_reviewers_claiming_and_deciding_one_item_at_once(pg_app):
    item_id = flagged_items(pg_app, 1)[0]
    alice, bob = Actor("alice@firm.test", Role.REVIEWER), Actor("bob@firm.test", Role.REVIEWER)
    enroll(pg_app, alice, bob)
    claims = race(2, lambda i: items.start_review(pg_app.uow(), actor=(alice, bob)[i], item_id=item_id))
    assert sum(r is None for r in claims) == 1 and sum(isinstance(r, IllegalTransition) for r in claims) == 1
    holder = alice if claims[0] is None else bob
    decide = [lambda who: items.confirm_synthetic(pg_app.uow(), actor=who, item_id=item_id,
                                                  reason_code="generator_traces"),
              lambda who: items.request_release(pg_app.uow(), actor=who, item_id=item_id,
                                                reason_code="false_positive")]
    # Both people click at once, and the holder also double-submits from a second tab.
    results = race(4, lambda i: decide[i % 2]((holder, alice if holder is bob else bob)[i // 2]))
    assert sum(not isinstance(r, Exception) for r in results) == 1
    with pg_app.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Decision).where(Decision.item_id == item_id)).scalar_one() == 1


def test_two_approvers_approving_one_release_at_once(pg_app):
    item_id = flagged_items(pg_app, 1)[0]
    alice, lead, lead2 = (Actor("alice@firm.test", Role.REVIEWER), Actor("lead@firm.test", Role.COMPLIANCE_LEAD),
                          Actor("lead2@firm.test", Role.COMPLIANCE_LEAD))
    enroll(pg_app, alice, lead, lead2)
    items.start_review(pg_app.uow(), actor=alice, item_id=item_id)
    decision_id, released = items.request_release(pg_app.uow(), actor=alice, item_id=item_id,
                                                  reason_code="false_positive")
    assert not released
    results = race(2, lambda i: items.approve_release(pg_app.uow(), actor=(lead, lead2)[i], decision_id=decision_id))
    assert sum(r is None for r in results) == 1
    assert len(events(pg_app, "item.released")) == 1


def test_two_compliance_leads_approving_one_message_at_once(pg_app):
    incident_id, _ = incident_with_items(pg_app)
    cid = _draft(pg_app, RESPONDER, incident_id, template="regulator_initial", key="r")
    results = race(2, lambda i: comms.approve(pg_app.uow(), actor=(COMPLIANCE, COMPLIANCE_2)[i], communication_id=cid))
    assert sum(r is None for r in results) == 1
    assert len(events(pg_app, "communication.approved")) == 1


# -- 5. nothing an outsider types becomes a flood -----------------------------------------------------
def test_a_two_megabyte_sign_in_email_never_reaches_the_trail(sqlite_app):
    huge = "a" * (2 * 1024 * 1024) + "@firm.test"
    with pytest.raises(SignInRefused) as refused:
        sign_in(sqlite_app.uow(), email=huge, password=PASSWORD * 100_000, client="ip:203.0.113.9")
    assert str(refused.value) == REFUSED
    [event] = events(sqlite_app, "auth.sign_in_failed")
    assert event.actor == auth.ANONYMOUS and event.reason == "malformed sign-in input"
    with sqlite_app.db.reader() as s:
        longest = s.execute(select(func.max(func.length(AuditEvent.actor)))).scalar_one()
    assert longest <= auth.MAX_EMAIL_LENGTH


def test_locked_unknown_and_wrong_password_read_the_same(sqlite_app):
    users.create_user(sqlite_app.uow(), actor=SYSTEM, email="rita@firm.test", role=Role.REVIEWER,
                      password_hash=hash_password(PASSWORD))
    messages = set()
    for n in range(MAX_FAILED_SIGN_INS + 1):
        with pytest.raises(SignInRefused) as refused:
            sign_in(sqlite_app.uow(), email="rita@firm.test", password="wrong", client=f"ip:10.0.0.{n}")
        messages.add(str(refused.value))
    with pytest.raises(SignInRefused) as unknown:
        sign_in(sqlite_app.uow(), email="nobody@firm.test", password="wrong", client="ip:10.0.9.9")
    assert messages == {str(unknown.value)} == {REFUSED}


def test_failed_sign_ins_are_throttled_per_client(sqlite_app):
    users.create_user(sqlite_app.uow(), actor=SYSTEM, email="rita@firm.test", role=Role.REVIEWER,
                      password_hash=hash_password(PASSWORD))
    for n in range(auth.CLIENT_MAX_FAILURES):  # spread over many accounts: no account lock helps here
        with pytest.raises(SignInRefused, match="Sign-in refused"):
            sign_in(sqlite_app.uow(), email=f"guess{n}@firm.test", password="wrong", client="ip:198.51.100.7")
    with pytest.raises(SignInRefused, match="from this browser"):  # even the right password
        sign_in(sqlite_app.uow(), email="rita@firm.test", password=PASSWORD, client="ip:198.51.100.7")
    assert len(events(sqlite_app, "auth.client_throttled")) == 1
    assert sign_in(sqlite_app.uow(), email="rita@firm.test", password=PASSWORD, client="ip:192.0.2.1").id == \
        "rita@firm.test"  # another client is not affected
    with sqlite_app.db.reader() as s:
        assert s.execute(select(User.failed_logins).where(User.email == "rita@firm.test")).scalar_one() == 0
