"""The dashboard server: `streamlit run dashboard.py` (the launcher does). Streamlit runs app.py for
every browser tab, as with `streamlit run app.py`; this adds the one route Streamlit offers no API
for, which turns a fresh sign-in into the browser's HTTP-only session cookie (ui/session_cookie.py)."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.session_cookie import routes

# app.py builds its navigation with st.navigation. Until a process's first such call, Streamlit still
# follows the older pages/ folder convention: a link to /review as the very first request after a
# start would run pages/review.py on its own, outside app.py's sign-in and role checks.
PagesManager.uses_pages_directory = False

app = st.App("app.py", routes=routes())
