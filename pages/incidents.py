"""Incidents: declared incidents and their status."""
import streamlit as st

from core.queries import incidents as incident_queries
from ui.context import app, demo_banner

st.title("Incidents")
demo_banner()
incidents = incident_queries.list_incidents(app().db)
if incidents.empty:
    st.info("No incident has been declared.")
else:
    st.dataframe(incidents, hide_index=True, width="stretch")
