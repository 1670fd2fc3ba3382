"""The dashboard's handle on core, and who is acting. session_state holds ids only.

A session ends on sign-out, after `idle_minutes` without an action, after `max_session_hours`, or
when an admin deactivates the account; each end is audited. A changed role applies at the next
action. Auto-refreshing fragments check the clocks without counting as activity."""
from __future__ import annotations

import time

import streamlit as st

from core.bootstrap import App, get_app
from core.commands.auth import SignInRefused, record_sign_out, sso_sign_in
from core.commands.users import active_role
from core.domain.roles import Actor, Role

USER_KEY = "user_email"
ROLE_KEY = "user_role"
METHOD_KEY = "session_method"
STARTED_KEY = "session_started"
SEEN_KEY = "session_seen"
NOTICE_KEY = "session_notice"
SSO_REFUSAL_KEY = "sso_refusal"
SIGN_IN_PAGE = "pages/sign_in.py"  # in every navigation, hidden once signed in, so a session can end anywhere


@st.cache_resource(show_spinner=False)
def app() -> App:
    """One App (engines and connection pools) per server process, shared by all sessions."""
    return get_app()


def current_actor() -> Actor | None:
    email, role = st.session_state.get(USER_KEY), st.session_state.get(ROLE_KEY)
    return Actor(id=email, role=Role(role)) if email and role else None


def sign_in_as(actor: Actor, method: str, started: float | None = None) -> None:
    now = time.time()
    st.session_state.update({USER_KEY: actor.id, ROLE_KEY: Role(actor.role).value, METHOD_KEY: method,
                             STARTED_KEY: started or now, SEEN_KEY: now})
    st.session_state.pop(NOTICE_KEY, None)


def end_session(reason: str, notice: str) -> None:
    """Audit the end, forget who was acting, and show the sign-in page (and, after single sign-on,
    clear Streamlit's identity cookie and sign out at the provider where it supports that)."""
    actor, method = current_actor(), st.session_state.get(METHOD_KEY)
    if actor is not None:
        record_sign_out(app().uow(), actor=actor, reason=reason)
    for key in (USER_KEY, ROLE_KEY, METHOD_KEY, STARTED_KEY, SEEN_KEY):
        st.session_state.pop(key, None)
    st.session_state[NOTICE_KEY] = notice
    if method == "sso":
        _leave_single_sign_on(notice)
    st.switch_page(SIGN_IN_PAGE)


def _leave_single_sign_on(notice: str) -> None:
    """The browser goes to Streamlit's /auth/logout (the identity cookie is cleared), on to the
    provider's end-session endpoint where it has one, and back in a new session. No rerun here: a
    rerun could drop the redirect before it reaches the browser."""
    st.logout()
    st.info(notice)
    st.stop()


def sign_out() -> None:
    """Used as a page: the person signs out."""
    end_session("signed out", "You are signed out.")


def _sso_actor() -> Actor | None:
    """Sign in, once per session, the person Streamlit's OIDC sign-in vouched for."""
    access = app().settings.access
    if not access.sso or not st.user.is_logged_in or st.session_state.get(SSO_REFUSAL_KEY):
        return None
    claims = st.user.to_dict()
    issued = float(claims["iat"]) if isinstance(claims.get("iat"), (int, float)) else None
    if issued is not None and time.time() - issued > access.max_session_hours * 3600:
        _leave_single_sign_on("Your single sign-on session has expired: sign in again.")
    try:
        actor = sso_sign_in(app().uow(), claims=claims, access=access)
    except SignInRefused as refused:
        st.session_state[SSO_REFUSAL_KEY] = str(refused)
        return None
    sign_in_as(actor, "sso", started=issued)
    return actor


def check_session(*, activity: bool = True) -> Actor | None:
    """Who is acting now, after enforcing the session rules. `activity=False` for timed refreshes."""
    actor = current_actor() or _sso_actor()
    if actor is None:
        return None
    ss, access, now = st.session_state, app().settings.access, time.time()
    if now - ss.get(SEEN_KEY, now) > access.idle_minutes * 60:
        end_session("idle timeout", f"You were signed out after {access.idle_minutes:g} minutes without activity.")
    if now - ss.get(STARTED_KEY, now) > access.max_session_hours * 3600:
        end_session("session lifetime reached",
                    f"Sessions last at most {access.max_session_hours:g} hours: sign in again.")
    if not activity:
        return actor
    role = active_role(app().db, actor.id)
    if role is None:
        end_session("account deactivated", "Your account is deactivated: ask an admin.")
    if role is not actor.role:
        ss[ROLE_KEY] = role.value
        st.toast(f"Your role is now {role.value.replace('_', ' ')}.")
    ss[SEEN_KEY] = now
    return current_actor()


def action_refusal() -> str | None:
    """Why an action (a button callback, a dialog) may not run now, or None. Streamlit runs callbacks
    before the page script, so they cannot rely on the page's own check: the session's clocks are
    checked here (the next render ends the session and audits it); the role and active flag are
    checked by every service inside its transaction."""
    ss, access, now = st.session_state, app().settings.access, time.time()
    if current_actor() is None:
        return "You are not signed in: nothing was done."
    if now - ss.get(SEEN_KEY, now) > access.idle_minutes * 60:
        return f"Your session ended after {access.idle_minutes:g} minutes without activity: nothing was done."
    if now - ss.get(STARTED_KEY, now) > access.max_session_hours * 3600:
        return "Your session reached its maximum length: nothing was done."
    ss[SEEN_KEY] = now
    return None


def require_actor() -> Actor:
    """Every page starts here: the session rules hold however the page was reached."""
    actor = check_session()
    if actor is None:
        st.warning("Sign in to use this page.")
        st.stop()
    return actor


def demo_banner() -> None:
    if app().settings.demo_mode:
        st.caption("DEMO ORG: the data on this page comes from the local demo organisation, "
                   "not from a real Salesforce org.")
