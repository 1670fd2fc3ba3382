"""Response Desk: the frame. Page config, who is acting, and navigation by role."""
import streamlit as st

from core.domain.roles import Role
from core.services.users import ensure_demo_users, list_users
from ui.context import app, current_actor, sign_in_as

st.set_page_config(page_title="Response Desk", page_icon=":material/shield:", layout="wide")


@st.cache_resource(show_spinner=False)
def _demo_users_ready() -> bool:
    ensure_demo_users(app().db, app().uow)
    return True


PAGES = {
    "Respond": [
        st.Page("pages/live.py", title="Live", icon=":material/monitoring:", default=True),
        st.Page("pages/incidents.py", title="Incidents", icon=":material/crisis_alert:"),
        st.Page("pages/communications.py", title="Communications", icon=":material/campaign:"),
    ],
    "Review": [st.Page("pages/review.py", title="Review queue", icon=":material/fact_check:")],
    "Prove": [
        st.Page("pages/trends.py", title="Trends", icon=":material/trending_up:"),
        st.Page("pages/audit.py", title="Audit", icon=":material/verified:"),
    ],
    "Admin": [st.Page("pages/settings.py", title="Settings", icon=":material/settings:")],
}
ADMIN_ONLY = {"Admin"}

if app().settings.demo_mode:
    _demo_users_ready()
    users = list_users(app().db)
    with st.sidebar:
        st.markdown("**Demo sign-in**")
        labels = {u["email"]: f"{u['display_name']} ({u['role']})" for u in users}
        actor = current_actor()
        emails = list(labels)
        index = emails.index(actor.id) if actor and actor.id in emails else None
        chosen = st.selectbox("Act as", emails, index=index, format_func=labels.get,
                              placeholder="Choose a demo user")
        if chosen:
            sign_in_as(chosen, next(u["role"] for u in users if u["email"] == chosen))

actor = current_actor()
sections = {name: pages for name, pages in PAGES.items()
            if name not in ADMIN_ONLY or (actor is not None and actor.role is Role.ADMIN)}
st.navigation(sections).run()
