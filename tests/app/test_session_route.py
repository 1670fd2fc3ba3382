"""The session cookie's route on a real `streamlit run dashboard.py`, over HTTP: only a same-origin
request with a live handoff gets a cookie, once, with HttpOnly, SameSite=Strict and the session's
lifetime; sign-out's DELETE expires it; Streamlit itself still answers beside it."""
from __future__ import annotations

import requests

from core.bootstrap import build, migrate
from core.commands.auth import hash_password
from core.commands.sessions import open_session
from core.commands.users import create_user
from core.domain.roles import Actor, Role
from core.domain.sessions import SessionLimits
from core.queries.sessions import session_by_token
from tests.browser import dashboard
from tests.conftest import TEST_AUDIT_KEY, make_settings

RITA = Actor("rita@firm.test", Role.REVIEWER)


def test_the_route_trades_a_same_origin_handoff_for_an_http_only_cookie_once(tmp_path):
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    app = build(settings)
    create_user(app.uow(), actor=Actor.system("test"), email=RITA.id, role=RITA.role,
                password_hash=hash_password("a long enough password"))
    opened = open_session(app.uow(), actor=RITA, method="password",
                          limits=SessionLimits.of(idle_minutes=30, max_session_hours=12))
    env = {"DATABASE_URL": settings.database_url, "RD_VAR_DIR": str(tmp_path), "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(),
           "RD_DEMO": "false", "RD_SECRETS_FILE": str(tmp_path / "no-secrets.toml")}
    with dashboard(env) as base:
        route, ours = f"{base}/_rd/session", {"Origin": base, "Sec-Fetch-Site": "same-origin"}
        assert requests.post(route, data=opened.handoff, timeout=10).status_code == 403  # no Origin: not our page
        assert requests.post(route, data=opened.handoff, timeout=10,
                             headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert requests.post(route, data="not-a-handoff", headers=ours, timeout=10).status_code == 410
        taken = requests.post(route, data=opened.handoff, headers=ours, timeout=10)
        assert taken.status_code == 204
        again = requests.post(route, data=opened.handoff, headers=ours, timeout=10)
        assert again.status_code == 410 and "set-cookie" not in again.headers  # one use
        header = taken.headers["set-cookie"]
        flags = {part.strip().split("=")[0].lower() for part in header.split(";")}
        assert {"httponly", "path", "max-age"} <= flags and "samesite=strict" in header.lower()
        assert "secure" not in flags  # plain HTTP on loopback; over HTTPS the route adds Secure
        max_age = int(next(p for p in header.split(";") if p.strip().lower().startswith("max-age")).split("=")[1])
        assert 12 * 3600 - 60 < max_age <= 12 * 3600
        token = taken.cookies["rd_session"]
        assert session_by_token(app.db, token).id == opened.id
        dropped = requests.delete(route, headers=ours, timeout=10)
        assert dropped.status_code == 204 and "max-age=0" in dropped.headers["set-cookie"].lower()
        assert requests.get(f"{base}/_stcore/health", timeout=10).text == "ok"
    app.db.dispose()
