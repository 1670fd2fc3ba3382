"""Review queue: flagged media waiting for a person's decision."""
import streamlit as st

from core.queries import items as item_queries
from ui.context import app, demo_banner

st.title("Review queue")
demo_banner()


@st.cache_data(ttl=5, max_entries=4, show_spinner=False)
def _queue():
    return item_queries.review_queue(app().db)


queue = _queue()
if queue.empty:
    st.info("Nothing waits for review.")
else:
    st.caption(f"{len(queue)} items held for review, oldest first.")
    st.dataframe(queue, hide_index=True, width="stretch")
