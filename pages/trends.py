"""Trends: flags, decisions, precision, drift and review speed over time, for compliance leads."""
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from core.queries import admin as admin_queries
from core.queries import trends as trend_queries
from ui.context import app, demo_banner, require_actor

require_actor()
st.title("Trends")
demo_banner()

today = datetime.now(UTC).date()
cols = st.columns([2, 1, 1])
chosen = cols[0].date_input("Date range (UTC)", value=(today - timedelta(days=30), today), key="t-range")
grain = cols[1].radio("Per", ["day", "week"], horizontal=True, key="t-grain")
by = cols[2].radio("By", ["source", "detector"], horizontal=True, key="t-by")
start, end = (chosen[0], chosen[-1]) if chosen else (today, today)
since = datetime.combine(start, time.min, tzinfo=UTC)
until = datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1)
sla_hours = admin_queries.thresholds(app().db, app().settings).review_sla_hours


@st.cache_data(ttl=60, max_entries=16, show_spinner="Aggregating...")
def _trends(since: datetime, until: datetime, grain: str, by: str, sla: float) -> dict:
    db, q = app().db, trend_queries
    return {"flagged": q.flagged(db, since, until, grain=grain, by=by),
            "confirmed": q.confirmed(db, since, until, grain=grain, by=by),
            "fp": q.false_positive_rate(db, since, until, grain=grain),
            "precision": q.detector_precision(db, since, until),
            "drift": q.score_distribution(db, since, until, grain=grain),
            "speed": q.time_to_decision(db, since, until),
            "sla": q.sla_breaches(db, since, until, sla_hours=sla, grain=grain)}


def bars(frame: pd.DataFrame, title: str) -> None:
    st.subheader(title)
    if frame.empty:
        st.info("Nothing in this range.")
    else:
        st.plotly_chart(px.bar(frame, x="period", y="n", color="group", height=300), width="stretch")


t = _trends(since, until, grain, by, sla_hours)
left, right = st.columns(2)
with left:
    bars(t["flagged"], f"Flagged per {grain}, by {by}")
with right:
    bars(t["confirmed"], f"Confirmed synthetic per {grain}, by {by}")

left, right = st.columns(2)
with left:
    st.subheader("False-positive rate (released / flagged)")
    if t["fp"].empty:
        st.info("Nothing in this range.")
    else:
        st.plotly_chart(px.line(t["fp"], x="period", y="false_positive_rate", markers=True, height=300),
                        width="stretch")
with right:
    st.subheader("Detector precision from reviewer decisions")
    st.dataframe(t["precision"], hide_index=True, width="stretch")

st.subheader("Score distributions over time (drift)")
drift = t["drift"]
if drift.empty:
    st.info("No scoring detector produced scores in this range.")
else:
    st.plotly_chart(px.density_heatmap(drift, x="period", y="bin_from", z="n", facet_col="detector",
                                       histfunc="sum", nbinsy=10, height=320), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("Time from scan to decision (hours)")
    st.dataframe(t["speed"], hide_index=True, width="stretch")
with right:
    st.subheader(f"Decisions past the {sla_hours:g} h review SLA")
    if t["sla"].empty:
        st.info("No decision in this range.")
    else:
        st.plotly_chart(px.bar(t["sla"], x="period", y=["decided", "breached"], barmode="group", height=300),
                        width="stretch")

export = pd.concat([t["flagged"].assign(series="flagged"), t["confirmed"].assign(series="confirmed"),
                    t["fp"].melt(id_vars="period", var_name="series", value_name="n"),
                    t["sla"].melt(id_vars="period", var_name="series", value_name="n")], ignore_index=True)
st.download_button("Download these figures (CSV)", trend_queries.export_csv(export), key="t-csv",
                   file_name=f"trends-{start}-{end}-{grain}.csv", mime="text/csv")
