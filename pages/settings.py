"""Settings: how this installation is configured (admins)."""
import streamlit as st

from core.domain.roles import Role
from core.services.users import list_users
from ui.context import app, demo_banner, require_actor

actor = require_actor()
if actor.role is not Role.ADMIN:  # guard before anything renders, whatever the navigation shows
    st.error("Settings are for admins.")
    st.stop()
st.title("Settings")
demo_banner()

settings = app().settings
st.subheader("Installation")
st.table({
    "Database": ["SQLite (embedded)" if settings.is_sqlite else "PostgreSQL"],
    "Demo org": ["on" if settings.demo_mode else "off"],
    "Review SLA": [f"{settings.review_sla_hours:g} hours"],
})
st.subheader("People")
st.dataframe(list_users(app().db), hide_index=True, width="stretch")
