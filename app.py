"""Response Desk: the frame. Page config, who is acting, and navigation by role."""
import streamlit as st

from core.domain.roles import Role
from core.services.users import ensure_demo_users
from ui.context import app, current_actor, sign_out

st.set_page_config(page_title="Response Desk", page_icon=":material/shield:", layout="wide")


@st.cache_resource(show_spinner=False)
def _demo_users_ready() -> bool:
    ensure_demo_users(app().db, app().uow)
    return True


if app().settings.demo_mode:
    _demo_users_ready()

SECTIONS = {
    "Respond": [
        st.Page("pages/live.py", title="Live", icon=":material/monitoring:", default=True),
        st.Page("pages/incidents.py", title="Incidents", icon=":material/crisis_alert:"),
        st.Page("pages/communications.py", title="Communications", icon=":material/campaign:"),
        st.Page("pages/check_file.py", title="Check a file", icon=":material/upload_file:"),
    ],
    "Review": [st.Page("pages/review.py", title="Review queue", icon=":material/fact_check:")],
    "Prove": [
        st.Page("pages/trends.py", title="Trends", icon=":material/trending_up:"),
        st.Page("pages/audit.py", title="Audit", icon=":material/verified:"),
    ],
    "Admin": [st.Page("pages/settings.py", title="Settings", icon=":material/settings:")],
}
ADMIN_SECTIONS = {"Admin"}

actor = current_actor()
if actor is None:
    navigation = st.navigation([st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:")])
else:
    navigation = st.navigation({
        **{name: pages for name, pages in SECTIONS.items()
           if name not in ADMIN_SECTIONS or actor.role is Role.ADMIN},
        "Account": [st.Page(sign_out, title=f"Sign out ({actor.id})", icon=":material/logout:",
                            url_path="sign-out")],
    })
navigation.run()
