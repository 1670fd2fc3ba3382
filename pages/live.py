"""Live: the situation at a glance for on-call responders."""
import streamlit as st

from core.queries import items as item_queries
from ui.context import app, demo_banner
from ui.format import duration

st.title("Live")
demo_banner()


@st.cache_data(ttl=5, max_entries=4, show_spinner=False)
def _summary() -> dict:
    return item_queries.live_summary(app().db)


@st.fragment(run_every=10)
def headline() -> None:
    s = _summary()
    cols = st.columns(4)
    cols[0].metric("Verified, last 15 min", s["verified_15m"])
    cols[1].metric("Verified, last hour", s["verified_1h"])
    cols[2].metric("Verified, last 24 h", s["verified_24h"])
    cols[3].metric("Flagged, last 24 h", s["flagged_24h"])
    cols = st.columns(4)
    cols[0].metric("Held from customer records now", s["held_now"])
    cols[1].metric("Awaiting review", s["awaiting_review"])
    cols[2].metric("Waiting for a verdict", s["unverified"])
    cols[3].metric("Oldest unverified", duration(s["oldest_unverified_s"]))


headline()
