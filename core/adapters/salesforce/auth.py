"""OAuth 2.0 sign-in to a Salesforce org: JWT bearer (recommended for an integration user),
username-password, and client credentials. We request the token ourselves and hand the
session to simple-salesforce, so the same code path works against a real org, a sandbox,
a My Domain login host and the local emulator."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import jwt
import requests

from core.settings import SalesforceSettings


class SalesforceAuthError(RuntimeError):
    """The org refused the sign-in; the message says why (never the secret)."""


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    issued_at: float
    identity_url: str = ""  # https://login.../id/<org id>/<user id>

    def __repr__(self) -> str:  # never print the bearer token
        return f"Token(instance_url={self.instance_url!r}, issued_at={self.issued_at})"

    @property
    def org_id(self) -> str:
        """The org's id, from the identity URL the token response carries (the Pub/Sub API's tenantid)."""
        parts = self.identity_url.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 and parts[-3:-2] == ["id"] else ""


def jwt_audience(cfg: SalesforceSettings) -> str:
    """Salesforce wants login.salesforce.com (test.salesforce.com for sandboxes) as the audience,
    even when signing in through a My Domain host; any other login host is its own audience."""
    if cfg.jwt_audience:
        return cfg.jwt_audience
    host = urlparse(cfg.login_url).hostname or ""
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith(".salesforce.com"):
        return "https://login.salesforce.com"
    return cfg.login_url.rstrip("/")


def _jwt_assertion(cfg: SalesforceSettings) -> str:
    key = Path(cfg.private_key_file).read_text()
    claims = {"iss": cfg.client_id, "sub": cfg.username, "aud": jwt_audience(cfg), "exp": int(time.time()) + 180}
    return jwt.encode(claims, key, algorithm="RS256")


def token_request(cfg: SalesforceSettings) -> dict[str, str]:
    if cfg.auth == "jwt":
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": _jwt_assertion(cfg)}
    if cfg.auth == "password":
        return {"grant_type": "password", "client_id": cfg.client_id, "client_secret": cfg.client_secret or "",
                "username": cfg.username, "password": f"{cfg.password}{cfg.security_token or ''}"}
    return {"grant_type": "client_credentials", "client_id": cfg.client_id, "client_secret": cfg.client_secret}


def fetch_token(cfg: SalesforceSettings, http: requests.Session) -> Token:
    url = f"{cfg.login_url.rstrip('/')}/services/oauth2/token"
    response = http.post(url, data=token_request(cfg), timeout=cfg.timeout_s)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error", f"HTTP {response.status_code}")
        raise SalesforceAuthError(f"Salesforce sign-in ({cfg.auth}) refused: {error}: "
                                  f"{body.get('error_description', '')}".strip())
    return Token(body["access_token"], body["instance_url"], time.time(), body.get("id", ""))
