"""Signing in to the org with each OAuth flow, over real HTTPS to the emulator."""
import pytest

from core.adapters.salesforce.auth import SalesforceAuthError
from core.adapters.salesforce.gateway import SalesforceGateway
from tests.sf import settings_for


@pytest.mark.parametrize("auth", ["jwt", "password", "client_credentials"])
def test_each_oauth_flow_signs_in_and_queries(emu, auth):
    gw = SalesforceGateway(settings_for(emu, auth))
    result = gw.check()
    assert result["users_visible"] == 1 and result["instance"].startswith("https://127.0.0.1")
    assert gw.usage is not None and gw.usage.limit > 0 and gw.usage.used >= 1


def test_a_wrong_password_is_refused_with_the_orgs_reason(emu):
    gw = SalesforceGateway(settings_for(emu, "password", password="wrong"))
    with pytest.raises(SalesforceAuthError, match="invalid_grant"):
        gw.check()


def test_an_expired_session_signs_in_again_and_retries_once(emu, gateway):
    gateway.check()
    emu.expire_sessions()
    assert gateway.check()["users_visible"] == 1
    assert gateway.sign_ins == 2


def test_the_token_never_shows_in_its_repr(emu):
    from core.adapters.salesforce.auth import fetch_token

    gw = SalesforceGateway(settings_for(emu))
    token = fetch_token(gw.cfg, gw.http)
    assert token.access_token not in repr(token)


@pytest.mark.parametrize("login_url,audience", [
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ("https://test.salesforce.com", "https://test.salesforce.com"),
    ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),
])
def test_jwt_audience_follows_salesforce_rules(emu, login_url, audience):
    from core.adapters.salesforce.auth import jwt_audience

    assert jwt_audience(settings_for(emu, login_url=login_url)) == audience
