"""Response Desk: the frame. Page config, who is acting, and navigation by role."""
import streamlit as st

from core.commands.users import sync_demo_accounts
from core.settings import is_loopback
from ui.context import app, check_session, sign_out
from ui.navigation import pages_for

st.set_page_config(page_title="Response Desk", page_icon=":material/shield:", layout="wide")


@st.cache_resource(show_spinner=False)
def _accounts_ready() -> bool:
    """Once per server: demo accounts exist in demo mode and are deactivated otherwise."""
    sync_demo_accounts(app().db, app().uow, demo_mode=app().settings.demo_mode)
    return True


if app().settings.demo_mode and not is_loopback(str(st.get_option("server.address") or "")):
    st.error("Demo mode lets anyone sign in as any role without a password, so it serves only this machine. "
             "Start Streamlit with --server.address 127.0.0.1, or turn demo mode off (RD_DEMO).")
    st.stop()
_accounts_ready()

actor = check_session()
if actor is None:
    navigation = st.navigation([st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:")])
else:
    navigation = st.navigation({
        **{section: [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in pages]
           for section, pages in pages_for(actor.role).items()},
        "Account": [st.Page(sign_out, title=f"Sign out ({actor.id})", icon=":material/logout:",
                            url_path="sign-out"),
                    st.Page("pages/sign_in.py", title="Sign in", visibility="hidden")],
    })
if actor is not None:
    st.sidebar.caption(f"Signed in as {actor.id} ({actor.role.value.replace('_', ' ')})")
navigation.run()
