"""The browser's session cookie: a random token in an HTTP-only cookie of our own, set by our own route.

Why our own cookie and not Streamlit's identity cookie (`st.login` against an OpenID provider we
would run ourselves): Streamlit's cookie holds the identity claims themselves, signed with one
server-wide secret, and stays valid until it expires, so a copied cookie signs its thief in until
then and nothing on the server can end it early; the provider would be a second sign-in system (its
own login page, keys and token endpoint) just to carry a password sign-in that already exists. Our
cookie holds only 256 random bits naming a server-side session (core.commands.sessions, which keeps
only their SHA-256), so a sign-out, the idle limit, the lifetime or a deactivated account ends it on
the server at once.

How it is set: a Streamlit script cannot set a cookie (it talks to the browser over a websocket),
and a custom component's JavaScript cannot set an HTTP-only one. So a fresh session queues a
one-time handoff (`hand_over`); `keep_cookie()`, rendered on every run, mounts a tiny component
whose fixed script POSTs the handoff to our route `/_rd/session`, added to Streamlit's server with
`st.App` (dashboard.py); the route answers with the Set-Cookie. Sign-out asks the same route (DELETE)
to expire it. The route takes same-origin requests only (Origin and Sec-Fetch-Site checked), so no
other site can plant a session in a browser. Every later page load (a reload, a second tab, a link
from an email) sends the cookie with Streamlit's websocket handshake, where `st.context.cookies`
reads it.

Flags: HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it), Path=/,
Secure whenever the dashboard is served over HTTPS, and Max-Age up to the session's lifetime."""
from __future__ import annotations

import secrets

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.bootstrap import get_app
from core.clock import utcnow
from core.commands.sessions import MAX_HANDOFF_LENGTH, claim_handoff

COOKIE_NAME = "rd_session"
ROUTE = "/_rd/session"
PENDING_KEY = "session_cookie_pending"  # session_state: what the browser must still do with its cookie

_SCRIPT = """
const done = new Set();
export default function ({ data, setTriggerValue }) {
  if (!data || done.has(data.nonce)) return;
  done.add(data.nonce);
  fetch(data.route, { method: data.method, credentials: "same-origin", cache: "no-store",
                      headers: { "Content-Type": "text/plain" }, body: data.handoff || null })
    .then((r) => setTriggerValue("done", { nonce: data.nonce, status: r.status }))
    .catch(() => setTriggerValue("done", { nonce: data.nonce, status: 0 }));
}
"""
_keeper = st.components.v2.component("rd_session_cookie", js=_SCRIPT)


def session_token() -> str | None:
    """The token this browser sent when the tab connected, if any (AppTest, which has no browser,
    answers with a stand-in object)."""
    token = st.context.cookies.get(COOKIE_NAME)
    return token if isinstance(token, str) else None


def hand_over(handoff: str) -> None:
    st.session_state[PENDING_KEY] = {"method": "POST", "handoff": handoff, "nonce": secrets.token_hex(8)}


def drop() -> None:
    st.session_state[PENDING_KEY] = {"method": "DELETE", "handoff": "", "nonce": secrets.token_hex(8)}


def keep_cookie(place) -> None:
    """Until the browser reports back, ask it to take (or drop) its cookie. app.py renders it on every
    run: in the sidebar before a signed-in page runs (a page that stops early cannot skip it), below
    the sign-in form otherwise (no empty sidebar)."""
    pending = st.session_state.get(PENDING_KEY)
    if not pending:
        return
    with place:
        result = _keeper(data={**pending, "route": ROUTE}, key=f"cookie-{pending['nonce']}", height="content",
                         on_done_change=lambda: None)
    reported = result.get("done") or {}
    if reported.get("nonce") == pending["nonce"]:
        st.session_state.pop(PENDING_KEY, None)


# -- the route (dashboard.py mounts it) -----------------------------------------------------------
def _same_origin(request: Request) -> bool:
    origin, site = request.headers.get("origin"), request.headers.get("sec-fetch-site")
    host = request.headers.get("host")
    return bool(origin and host) and origin.split("://", 1)[-1] == host and site in (None, "same-origin")


def _flags(request: Request) -> dict:
    return {"path": "/", "httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


async def _take(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    handoff = (await request.body())[:MAX_HANDOFF_LENGTH + 1].decode("ascii", "replace")
    cookie = await run_in_threadpool(lambda: claim_handoff(get_app().uow(), handoff=handoff))
    if cookie is None:
        return Response(status_code=410)  # unknown, already used, too late, or the session has ended
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE_NAME, cookie.token, max_age=max(0, int((cookie.expires_at - utcnow()).total_seconds())),
                        **_flags(request))
    return response


async def _drop(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, **_flags(request))
    return response


def routes() -> list[Route]:
    return [Route(ROUTE, _take, methods=["POST"]), Route(ROUTE, _drop, methods=["DELETE"])]
