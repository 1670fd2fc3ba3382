"""The OAuth 2.0 token endpoint: JWT bearer, username-password and client credentials grants."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .errors import OAuthError

if TYPE_CHECKING:
    from .org import Org

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


def issue_token(org: Org, form: dict[str, str], base_url: str, basic_auth: tuple[str, str] | None) -> dict:
    grant = form.get("grant_type")
    if grant == JWT_BEARER:
        user, app_key = _jwt_user(org, form.get("assertion", ""), base_url)
    elif grant == "password":
        user, app_key = _password_user(org, form)
    elif grant == "client_credentials":
        user, app_key = _client_credentials_user(org, form, basic_auth)
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    token = org.sessions.issue(org.org_id, user["Id"], app_key)
    issued_at = str(int(time.time() * 1000))
    identity = f"{base_url}/id/{org.org_id}/{user['Id']}"
    secret = org.connected_app(app_key)["consumer_secret"].encode()
    signature = base64.b64encode(hmac.new(secret, (identity + issued_at).encode(), hashlib.sha256).digest())
    return {"access_token": token, "scope": "api", "instance_url": base_url, "id": identity,
            "token_type": "Bearer", "issued_at": issued_at, "signature": signature.decode()}


def _app(org: Org, consumer_key: str | None) -> dict:
    app = org.connected_app(consumer_key or "")
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    return app


def _jwt_user(org: Org, assertion: str, base_url: str) -> tuple[dict, str]:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    app = _app(org, claims.get("iss"))
    if header.get("alg") != "RS256" or not app.get("certificate_pem"):
        raise OAuthError("invalid_grant", "invalid assertion")
    try:
        jwt.decode(assertion, _public_key(app["certificate_pem"]), algorithms=["RS256"],
                   audience=[*LOGIN_AUDIENCES, base_url, base_url.replace("127.0.0.1", "localhost")],
                   options={"require": ["iss", "sub", "aud", "exp"]})
    except jwt.InvalidAudienceError:
        raise OAuthError("invalid_grant", "audience is invalid") from None
    except jwt.ExpiredSignatureError:
        raise OAuthError("invalid_grant", "expired authorization code") from None
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    user = org.user_by_username(claims.get("sub", ""))
    # The JWT bearer flow "does require prior approval of the client app": the app's policy pre-authorises
    # the user's profile or permission set, or the user approved the app before ("OAuth 2.0 JWT Bearer
    # Flow for Server-to-Server Integration", https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm).
    if user is None or not user["IsActive"] or not org.security.preauthorized(app, user["Id"]):
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    return user, claims["iss"]


def _password_user(org: Org, form: dict[str, str]) -> tuple[dict, str]:
    app = _app(org, form.get("client_id"))
    if not hmac.compare_digest(app["consumer_secret"], form.get("client_secret", "")):
        raise OAuthError("invalid_client", "invalid client credentials")
    username = form.get("username", "")
    creds = org.credentials(username) or {}
    expected = (creds.get("password") or "") + (creds.get("security_token") or "")
    user = org.user_by_username(username)
    if not creds or user is None or not hmac.compare_digest(expected, form.get("password", "")):
        raise OAuthError("invalid_grant", "authentication failure")
    return user, form["client_id"]


def _client_credentials_user(org: Org, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[dict, str]:
    key, secret = basic or (form.get("client_id"), form.get("client_secret", ""))
    app = _app(org, key)
    if not hmac.compare_digest(app["consumer_secret"], secret or ""):
        raise OAuthError("invalid_client", "invalid client credentials")
    user = org.user_by_username(app.get("run_as_username") or "")
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    return user, key


def _public_key(pem: str):
    data = pem.encode() if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)
