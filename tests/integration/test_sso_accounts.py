"""Single sign-on accounts on both databases: the role follows the identity provider's claim, and
this side still decides who may enter (unverified email, no mapped role, deactivated here)."""
import pytest
from sqlalchemy import select

from core.commands import users
from core.commands.auth import SignInRefused, sso_sign_in
from core.domain.roles import Actor, Role
from core.models import AuditEvent, User
from core.settings import AccessSettings, SettingsError, _access
from tests.conftest import enroll

ACCESS = AccessSettings(sso=True, role_claim="roles", role_map=(("rd.lead", "compliance_lead"), ("rd.review", "reviewer")),
                        local_accounts=False)


def claims(email="nia@firm.test", roles=("rd.review",), **extra) -> dict:
    return {"sub": "00u1", "email": email, "email_verified": True, "name": "Nia",
            "roles": roles if isinstance(roles, str) else list(roles), **extra}


def test_first_sign_in_creates_the_account_with_the_mapped_role(any_app):
    actor = sso_sign_in(any_app.uow(), claims=claims(email="Nia@Firm.test"), access=ACCESS)
    assert actor == Actor("nia@firm.test", Role.REVIEWER)
    with any_app.db.reader() as s:
        user = s.execute(select(User).where(User.email == "nia@firm.test")).scalar_one()
        assert user.password_hash is None and user.role == "reviewer" and user.last_login_at is not None


def test_a_single_string_claim_maps_too(any_app):
    assert sso_sign_in(any_app.uow(), claims=claims(roles="rd.lead"), access=ACCESS).role is Role.COMPLIANCE_LEAD


@pytest.mark.parametrize(("changed", "why"), [
    ({"email_verified": False}, "not verified"),
    ({"email": ""}, "no email address"),
    ({"roles": ["staff"]}, "no Response Desk role"),
    ({"roles": []}, "no Response Desk role"),
])
def test_refusals_say_why_and_are_audited(any_app, changed, why):
    with pytest.raises(SignInRefused, match=why):
        sso_sign_in(any_app.uow(), claims={**claims(), **changed}, access=ACCESS)
    with any_app.db.reader() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).scalar_one()
        assert why in event.reason and s.execute(select(User)).first() is None


def test_an_account_deactivated_here_stays_out_whatever_the_provider_says(any_app):
    sso_sign_in(any_app.uow(), claims=claims(), access=ACCESS)
    admin = Actor("admin@firm.test", Role.ADMIN)
    enroll(any_app, admin)
    users.set_active(any_app.uow(), actor=admin, email="nia@firm.test",
                     active=False, reason="left the firm")
    with pytest.raises(SignInRefused, match="deactivated"):
        sso_sign_in(any_app.uow(), claims=claims(), access=ACCESS)


def test_role_map_configuration_errors_are_caught_at_start_up():
    auth = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
            "idp": {"client_id": "c", "client_secret": "s", "server_metadata_url": "https://idp/.well-known"}}
    with pytest.raises(SettingsError, match="maps no claim value"):
        _access({"auth": auth})
    with pytest.raises(SettingsError, match="unknown roles: superuser"):
        _access({"auth": auth, "access": {"role_map": {"rd-root": "superuser"}}})
    with pytest.raises(SettingsError, match="2 providers"):
        _access({"auth": {**auth, "other": dict(auth["idp"])}, "access": {"role_map": {"g": "admin"}}})
    ok = _access({"auth": auth, "access": {"role_map": {"g": "admin"}}})
    assert ok.sso and ok.sso_provider == "idp" and not ok.local_accounts
    assert not _access({}).sso and _access({}).local_accounts
