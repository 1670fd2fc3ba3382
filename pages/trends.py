"""Trends: flags, decisions, precision, drift and review speed over time, for compliance leads."""
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.domain.decisions import DecisionKind
from core.queries import admin as admin_queries
from core.queries import trends as trend_queries
from ui import charts
from ui import format as fmt
from ui.context import app, demo_banner, require_actor

GRAINS = {"day": "Day", "week": "Week"}
GROUPS = {"source": "Record type", "detector": "Detector"}

require_actor()
st.title("Trends")
demo_banner()

today = datetime.now(UTC).date()
cols = st.columns([2, 1, 1])
chosen = cols[0].date_input("Date range (UTC)", value=(today - timedelta(days=30), today), key="t-range")
grain = cols[1].radio("Per", list(GRAINS), horizontal=True, key="t-grain", format_func=GRAINS.get)
by = cols[2].radio("By", list(GROUPS), horizontal=True, key="t-by", format_func=GROUPS.get)
start, end = (chosen[0], chosen[-1]) if chosen else (today, today)
since = datetime.combine(start, time.min, tzinfo=UTC)
until = datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1)
sla_hours = admin_queries.thresholds(app().db, app().settings).review_sla_hours
x_axis = charts.date_axis(start, end)


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


def bars(frame: pd.DataFrame, title: str, key: str) -> None:
    st.subheader(title)
    if charts.too_little(frame, what="a trend"):
        return
    frame = frame.assign(group=frame["group"].map(fmt.record_type)) if by == "source" else frame
    fig = px.bar(frame, x="period", y="n", color="group", labels={"n": "Files", "group": GROUPS[by]})
    st.plotly_chart(charts.layout(fig, xaxis=x_axis, yaxis=charts.count_axis(frame.groupby("period")["n"].sum())),
                    width="stretch", key=key)


t = _trends(since, until, grain, by, sla_hours)
left, right = st.columns(2)
with left:
    bars(t["flagged"], f"Files flagged per {grain}, by {GROUPS[by].lower()}", "t-flagged")
with right:
    bars(t["confirmed"], f"Files confirmed synthetic per {grain}, by {GROUPS[by].lower()}", "t-confirmed")

left, right = st.columns(2)
with left:
    st.subheader("False positives: share of flagged files released")
    fp = t["fp"].dropna(subset=["false_positive_rate"])
    if not charts.too_little(fp, what="a rate over time"):
        fig = px.line(fp, x="period", y="false_positive_rate", markers=True,
                      hover_data={"flagged": True, "released": True},
                      labels={"false_positive_rate": "Released / flagged", "flagged": "Flagged", "released": "Released"})
        st.plotly_chart(charts.layout(fig, xaxis=x_axis, yaxis=charts.RATE_AXIS), width="stretch", key="t-fp")
with right:
    st.subheader("Detector precision from reviewers' decisions")
    if t["precision"].empty:
        st.info("No decision in this range.", icon=":material/query_stats:")
    else:
        fmt.table(t["precision"], {"detector": "Detector", "confirmed": "Confirmed synthetic", "released": "Released",
                                   "precision": ("Precision", st.column_config.NumberColumn(
                                       "Precision", format="percent",
                                   help="Of the decided files the detector fired on, the share confirmed synthetic."))},
                  key="t-precision")

st.subheader("Detector scores over time (drift)")
drift = t["drift"]
if not charts.too_little(drift, what="drift"):
    st.caption(f"Each column is a {grain}: how a detector's scores of that {grain}'s files spread from 0 (genuine) "
               "to 1 (synthetic). Weight moving up the columns, with nothing else changed, is drift.")
    for column, (detector, scores) in zip(st.columns(drift["detector"].nunique()), drift.groupby("detector")):
        grid = scores.pivot_table(index="bin_from", columns="period", values="n", aggfunc="sum", fill_value=0)
        fig = go.Figure(go.Heatmap(x=list(grid.columns), y=grid.index + 0.05, z=grid.to_numpy(), colorscale="Blues",
                                   colorbar={"title": "Files"}, hovertemplate="%{x}<br>score %{y:.1f}: %{z} files"))
        fig.update_layout(title={"text": detector, "font": {"size": 14}})
        column.plotly_chart(charts.layout(fig, height=320, xaxis=x_axis, yaxis={"range": [0, 1], "title": "Score"}),
                            width="stretch", key=f"t-drift-{detector}")

left, right = st.columns(2)
with left:
    st.subheader("Time from scan to decision")
    if t["speed"].empty:
        st.info("No decision in this range.", icon=":material/query_stats:")
    else:
        fmt.table(t["speed"], {"kind": "Decision", "n": "Decisions", "p50": "Median (h)", "p90": "90 % within (h)",
                               "p99": "99 % within (h)", "max": "Longest (h)"},
                  labels={"kind": lambda v: fmt.label(DecisionKind, v)}, key="t-speed")
with right:
    st.subheader(f"Decisions past the {sla_hours:g} h review SLA")
    sla = t["sla"]
    if not charts.too_little(sla, what="a trend"):
        long = sla.melt(id_vars="period", value_vars=["decided", "breached"], var_name="series", value_name="n")
        long["series"] = long["series"].map({"decided": "Decided", "breached": "Past the SLA"})
        fig = px.bar(long, x="period", y="n", color="series", barmode="group", labels={"n": "Decisions"})
        st.plotly_chart(charts.layout(fig, xaxis=x_axis, yaxis=charts.count_axis(sla["decided"])), width="stretch",
                        key="t-sla")

export = pd.concat([t["flagged"].assign(series="flagged"), t["confirmed"].assign(series="confirmed"),
                    t["fp"].melt(id_vars="period", var_name="series", value_name="n"),
                    t["sla"].melt(id_vars="period", var_name="series", value_name="n")], ignore_index=True)
st.download_button("Download these figures (CSV)", trend_queries.export_csv(export), key="t-csv",
                   file_name=f"trends-{start}-{end}-{grain}.csv", mime="text/csv")
