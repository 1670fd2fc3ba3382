"""Response Desk: the frame. Page config, who is acting, and navigation by role.

Every page is registered whether or not someone is signed in (ui/navigation.py), so a link from an
email (`/review?item=147`) asks for sign-in on its own address and then opens exactly what it points
to; a page the role may not open says so. Served by `streamlit run dashboard.py`, which adds the
session cookie's route."""
import streamlit as st

from core.commands.users import sync_demo_accounts
from core.settings import PROJECT_ROOT, is_loopback
from ui.context import app, check_session
from ui.navigation import refusal, signed_in_pages, signed_out_pages
from ui.session_cookie import keep_cookie

# A local file, served by Streamlit itself: the browser fetches no icon from an outside font server.
st.set_page_config(page_title="Response Desk", page_icon=str(PROJECT_ROOT / "assets" / "favicon.png"), layout="wide")


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
    st.navigation(signed_out_pages(), position="hidden").run()
    keep_cookie(st.container())
else:
    page = st.navigation(signed_in_pages(actor))
    st.sidebar.caption(f"Signed in as {actor.id} ({actor.role.value.replace('_', ' ')})")
    keep_cookie(st.sidebar)
    if refused := refusal(page.url_path, actor.role):
        st.error(refused)
    else:
        page.run()
