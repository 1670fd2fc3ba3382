"""Trends: verdicts and decisions over time, for compliance leads."""
from datetime import datetime, time, timedelta, timezone

import plotly.express as px
import streamlit as st

from core.queries import trends as trend_queries
from ui.context import app, demo_banner

st.title("Trends")
demo_banner()
today = datetime.now(timezone.utc).date()
chosen = st.date_input("Date range (UTC)", value=(today - timedelta(days=30), today))
start, end = (chosen[0], chosen[-1]) if chosen else (today, today)
since = datetime.combine(start, time.min, tzinfo=timezone.utc)
until = datetime.combine(end, time.min, tzinfo=timezone.utc) + timedelta(days=1)

verdicts = trend_queries.verdicts_per_day(app().db, since, until)
st.subheader("Verdicts per day")
if verdicts.empty:
    st.info("No verdicts in this range.")
else:
    st.plotly_chart(px.bar(verdicts, x="day", y="n", color="risk"), width="stretch")

decisions = trend_queries.decisions_per_day(app().db, since, until)
st.subheader("Reviewer decisions per day")
if decisions.empty:
    st.info("No reviewer decisions in this range.")
else:
    st.plotly_chart(px.bar(decisions, x="day", y="n", color="kind"), width="stretch")
