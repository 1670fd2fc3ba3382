"""A small OpenID Connect provider for tests: discovery, an authorization endpoint with a sign-in
form, the token endpoint (authorization code, client secret basic or post), JWKS with an RS256 key,
and RP-initiated logout. It serves HTTPS with its own throwaway CA, so the app verifies it exactly
as it would a real identity provider (point SSL_CERT_FILE at `ca_path`)."""
from __future__ import annotations

import base64
import html
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from sf_emulator.tls import make_tls_files


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class Provider:
    directory: Path
    clients: dict[str, Client] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)  # email -> extra claims (groups, name...)
    codes: dict[str, dict] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.tls = make_tls_files(self.directory)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert_path, self.tls.key_path)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.issuer = f"https://127.0.0.1:{self.server.server_address[1]}"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> Provider:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    def jwks(self) -> dict:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, client_id: str, email: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": email, "aud": client_id, "iat": now, "exp": now + 300,
                  "auth_time": now, "email": email, "email_verified": True, **self.people[email]}
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


def _handler(idp: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args) -> None:
            idp.log.append(fmt % args)

        def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
                  headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict) -> None:
            self._send(status, json.dumps(payload).encode())

        def _form(self) -> dict[str, str]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                return self._json(200, idp.metadata())
            if url.path == "/jwks":
                return self._json(200, idp.jwks())
            if url.path == "/authorize":
                return self._authorize_form(query)
            if url.path == "/logout":
                target = query.get("post_logout_redirect_uri") or "about:blank"
                return self._send(302, headers={"Location": target})
            self._send(404)

        def _authorize_form(self, query: dict[str, str]) -> None:
            client = idp.clients.get(query.get("client_id", ""))
            if client is None or query.get("redirect_uri") not in client.redirect_uris:
                return self._send(400, b"unknown client or redirect_uri", "text/plain")
            if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
                return self._send(400, b"only the authorization code flow with scope openid", "text/plain")
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in query.items())
            options = "".join(f'<option value="{html.escape(e)}">{html.escape(e)}</option>' for e in idp.people)
            page = (f"<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1>"
                    f'<form method="post" action="/authorize">{hidden}<label>Account '
                    f'<select name="login">{options}</select></label>'
                    f'<button type="submit">Continue</button></form>')
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:
            url = urlparse(self.path)
            form = self._form()
            if url.path == "/authorize":
                client = idp.clients.get(form.get("client_id", ""))
                if client is None or form.get("redirect_uri") not in client.redirect_uris \
                        or form.get("login") not in idp.people:
                    return self._send(400, b"bad authorization request", "text/plain")
                code = secrets.token_urlsafe(24)
                idp.codes[code] = {"client_id": client.client_id, "redirect_uri": form["redirect_uri"],
                                   "nonce": form.get("nonce"), "email": form["login"], "at": time.time()}
                target = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"
                return self._send(302, headers={"Location": target})
            if url.path == "/token":
                return self._token(form)
            self._send(404)

        def _token(self, form: dict[str, str]) -> None:
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                client_id = client_id.replace("%3A", ":")
            client = idp.clients.get(client_id or "")
            if client is None or not secrets.compare_digest(client.client_secret, secret or ""):
                return self._json(401, {"error": "invalid_client"})
            grant = idp.codes.pop(form.get("code", ""), None)  # a code works once
            if form.get("grant_type") != "authorization_code" or grant is None \
                    or grant["client_id"] != client.client_id or grant["redirect_uri"] != form.get("redirect_uri") \
                    or time.time() - grant["at"] > 60:
                return self._json(400, {"error": "invalid_grant"})
            self._json(200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                             "id_token": idp.id_token(client.client_id, grant["email"], grant["nonce"])})

    return Handler
