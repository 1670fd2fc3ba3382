"""Communications: messages drafted, approved and sent for incidents."""
import streamlit as st

from core.queries import incidents as incident_queries
from ui.context import app, demo_banner

st.title("Communications")
demo_banner()
messages = incident_queries.list_communications(app().db)
if messages.empty:
    st.info("No message has been drafted yet.")
else:
    st.dataframe(messages, hide_index=True, width="stretch")
