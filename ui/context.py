"""The dashboard's handle on core, and who is acting. session_state holds ids only.

A session ends on sign-out, after `idle_minutes` without an action, after `max_session_hours`, or
when an admin deactivates the account; each end is audited once. A changed role applies at the next
action. Auto-refreshing fragments check the clocks without counting as activity.

Local-account sessions (password and demo) live on the server (core.commands.sessions): the tab
holds the session's id and the browser an HTTP-only cookie naming it (ui/session_cookie.py), so a
reload, a second tab or a link from an email finds the same session, and a sign-out in one tab ends
it in every tab at its next action. Single sign-on sessions keep their clocks in the tab: Streamlit's
identity cookie brings the person back to a new one."""
from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.bootstrap import App, get_app
from core.clock import utcnow
from core.commands.auth import SignInRefused, record_sign_out, sso_sign_in
from core.commands.sessions import close_session, open_session, touch_session
from core.commands.users import active_role
from core.domain.roles import Actor, Role
from core.domain.sessions import SessionEnd, SessionLimits
from core.queries.sessions import SessionRecord, session_by_id, session_by_token
from ui import session_cookie

USER_KEY = "user_email"
ROLE_KEY = "user_role"
METHOD_KEY = "session_method"
SESSION_KEY = "session_id"  # a local-account session: its clocks are on the server
STARTED_KEY = "session_started"  # a single sign-on session's clocks (epoch seconds), kept in the tab
SEEN_KEY = "session_seen"
NOTICE_KEY = "session_notice"
SSO_REFUSAL_KEY = "sso_refusal"
SIGN_IN_PAGE = "pages/sign_in.py"  # in every navigation, hidden once signed in, so a session can end anywhere
_HELD = (USER_KEY, ROLE_KEY, METHOD_KEY, SESSION_KEY, STARTED_KEY, SEEN_KEY)


@st.cache_resource(show_spinner=False)
def app() -> App:
    """One App (engines and connection pools) per server process, shared by all sessions."""
    return get_app()


def limits() -> SessionLimits:
    access = app().settings.access
    return SessionLimits.of(idle_minutes=access.idle_minutes, max_session_hours=access.max_session_hours)


def _notice(reason: SessionEnd) -> str:
    access = app().settings.access
    return {SessionEnd.SIGNED_OUT: "You are signed out.",
            SessionEnd.IDLE: f"You were signed out after {access.idle_minutes:g} minutes without activity.",
            SessionEnd.LIFETIME: f"Sessions last at most {access.max_session_hours:g} hours: sign in again.",
            SessionEnd.DEACTIVATED: "Your account is deactivated: ask an admin."}[reason]


def _refusal(reason: SessionEnd) -> str:
    access = app().settings.access
    return {SessionEnd.SIGNED_OUT: "You signed out (in this or another tab): nothing was done.",
            SessionEnd.IDLE: f"Your session ended after {access.idle_minutes:g} minutes without activity: "
                             "nothing was done.",
            SessionEnd.LIFETIME: "Your session reached its maximum length: nothing was done.",
            SessionEnd.DEACTIVATED: "Your account is deactivated: nothing was done."}[reason]


def current_actor() -> Actor | None:
    email, role = st.session_state.get(USER_KEY), st.session_state.get(ROLE_KEY)
    return Actor(id=email, role=Role(role)) if email and role else None


def _hold(actor: Actor, method: str, **clocks) -> None:
    st.session_state.update({USER_KEY: actor.id, ROLE_KEY: Role(actor.role).value, METHOD_KEY: method, **clocks})
    st.session_state.pop(NOTICE_KEY, None)


def _forget(notice: str) -> None:
    for key in _HELD:
        st.session_state.pop(key, None)
    st.session_state[NOTICE_KEY] = notice


def start_session(actor: Actor, method: str) -> None:
    """A local account has just signed in: open its server-side session and hand the browser its cookie."""
    opened = open_session(app().uow(), actor=actor, method=method, limits=limits())
    _hold(actor, method, **{SESSION_KEY: opened.id})
    session_cookie.hand_over(opened.handoff)


def sign_in_as(actor: Actor, method: str, started: float | None = None) -> None:
    """A single sign-on session, whose clocks the tab keeps."""
    now = utcnow().timestamp()
    _hold(actor, method, **{STARTED_KEY: started or now, SEEN_KEY: now})


def _close(reason: SessionEnd) -> str | None:
    """Audit the end (once, whichever tab gets there first) and forget who was acting. Returns how
    the person had signed in."""
    actor, method, session_id = current_actor(), st.session_state.get(METHOD_KEY), st.session_state.get(SESSION_KEY)
    if session_id:
        close_session(app().uow(), session_id=session_id, reason=reason)
        session_cookie.drop()
    elif actor is not None:
        record_sign_out(app().uow(), actor=actor, reason=reason.value)
    _forget(_notice(reason))
    return method


def end_session(reason: SessionEnd) -> None:
    """End the session and show the sign-in page (after single sign-on, also clear Streamlit's
    identity cookie and sign out at the provider where it supports that)."""
    if _close(reason) == "sso":
        _leave_single_sign_on(_notice(reason))
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
    end_session(SessionEnd.SIGNED_OUT)


def _sso_actor() -> Actor | None:
    """Sign in, once per session, the person Streamlit's OIDC sign-in vouched for."""
    access = app().settings.access
    if not access.sso or not st.user.is_logged_in or st.session_state.get(SSO_REFUSAL_KEY):
        return None
    claims = st.user.to_dict()
    issued = float(claims["iat"]) if isinstance(claims.get("iat"), (int, float)) else None
    if issued is not None and utcnow().timestamp() - issued > access.max_session_hours * 3600:
        _leave_single_sign_on("Your single sign-on session has expired: sign in again.")
    try:
        actor = sso_sign_in(app().uow(), claims=claims, access=access)
    except SignInRefused as refused:
        st.session_state[SSO_REFUSAL_KEY] = str(refused)
        return None
    sign_in_as(actor, "sso", started=issued)
    return actor


def _resumed() -> bool:
    """A tab that opened with this browser's session cookie joins its session (a reload, a second
    tab, a link from an email). A session found over (idle overnight, say) is ended and audited
    here, and the tab goes on signed out at the address it asked for, so that signing in again
    opens what the link pointed to."""
    token = session_cookie.session_token()
    if not token or not app().settings.access.local_accounts:
        return False
    record = session_by_token(app().db, token)
    if record is None or record.revoked_at is not None:
        return False
    st.session_state.update({SESSION_KEY: record.id, USER_KEY: record.email, METHOD_KEY: record.method,
                             ROLE_KEY: record.role.value if record.role else None})
    if ended := _local_end(record):
        _close(ended)
        return False
    return True


def _local_end(record: SessionRecord | None) -> SessionEnd | None:
    if record is None or record.revoked_at is not None:
        return SessionEnd(record.end_reason) if record and record.end_reason else SessionEnd.SIGNED_OUT
    if record.role is None:
        return SessionEnd.DEACTIVATED
    return limits().ended(started_at=record.started_at, last_seen_at=record.last_seen_at, now=utcnow())


def _sso_end() -> SessionEnd | None:
    ss, now = st.session_state, utcnow()
    started, seen = (datetime.fromtimestamp(ss.get(key, now.timestamp()), UTC) for key in (STARTED_KEY, SEEN_KEY))
    return limits().ended(started_at=started, last_seen_at=seen, now=now)


def _follow_role(role: Role | None) -> None:
    if role is None:
        end_session(SessionEnd.DEACTIVATED)
    if role is not current_actor().role:
        st.session_state[ROLE_KEY] = role.value
        st.toast(f"Your role is now {role.value.replace('_', ' ')}.")


def _check_local(activity: bool) -> Actor | None:
    record = session_by_id(app().db, st.session_state[SESSION_KEY])
    if record is not None and record.revoked_at is not None:  # ended by another tab, which audited it
        reason = SessionEnd(record.end_reason or SessionEnd.SIGNED_OUT)
        session_cookie.drop()
        _forget("You signed out in another tab or window." if reason is SessionEnd.SIGNED_OUT else _notice(reason))
        st.switch_page(SIGN_IN_PAGE)
    if ended := _local_end(record):
        end_session(ended)
    if activity:
        _follow_role(record.role)
        if limits().needs_touch(last_seen_at=record.last_seen_at, now=utcnow()):
            touch_session(app().uow(), session_id=record.id)
    return current_actor()


def check_session(*, activity: bool = True) -> Actor | None:
    """Who is acting now, after enforcing the session rules. `activity=False` for timed refreshes."""
    if st.session_state.get(SESSION_KEY) or _resumed():
        return _check_local(activity)
    actor = current_actor() or _sso_actor()
    if actor is None:
        return None
    if ended := _sso_end():
        end_session(ended)
    if activity:
        _follow_role(active_role(app().db, actor.id))
        st.session_state[SEEN_KEY] = utcnow().timestamp()
    return current_actor()


def action_refusal() -> str | None:
    """Why an action (a button callback, a dialog) may not run now, or None. Streamlit runs callbacks
    before the page script, so they cannot rely on the page's own check: the session's clocks are
    checked here (the next render ends the session and audits it); the role and active flag are
    checked by every service inside its transaction."""
    if current_actor() is None:
        return "You are not signed in: nothing was done."
    session_id = st.session_state.get(SESSION_KEY)
    record = session_by_id(app().db, session_id) if session_id else None
    if ended := (_local_end(record) if session_id else _sso_end()):
        return _refusal(ended)
    if record is None:
        st.session_state[SEEN_KEY] = utcnow().timestamp()
    elif limits().needs_touch(last_seen_at=record.last_seen_at, now=utcnow()):
        touch_session(app().uow(), session_id=record.id)
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
