"""The dashboard's handle on core, and who is acting. session_state holds ids only."""
from __future__ import annotations

import streamlit as st

from core.bootstrap import App, get_app
from core.domain.roles import Actor, Role

USER_KEY = "user_email"
ROLE_KEY = "user_role"


@st.cache_resource(show_spinner=False)
def app() -> App:
    """One App (engines and connection pools) per server process, shared by all sessions."""
    return get_app()


def current_actor() -> Actor | None:
    email, role = st.session_state.get(USER_KEY), st.session_state.get(ROLE_KEY)
    return Actor(id=email, role=Role(role)) if email and role else None


def sign_in_as(email: str, role: str) -> None:
    st.session_state[USER_KEY] = email
    st.session_state[ROLE_KEY] = role


def sign_out() -> None:
    """Used as a page: forget who is acting, then show the sign-in page."""
    for key in (USER_KEY, ROLE_KEY):
        st.session_state.pop(key, None)
    st.rerun()


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        st.warning("Sign in to use this page.")
        st.stop()
    return actor


def demo_banner() -> None:
    if app().settings.demo_mode:
        st.caption("DEMO ORG: the data on this page comes from the local demo organisation, "
                   "not from a real Salesforce org.")
