"""Live: the situation at a glance for on-call responders. Refreshes itself every few seconds."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.domain.clocks import STATE_LABELS as CLOCK_STATES
from core.domain.incidents import IncidentStatus
from core.domain.lifecycle import ItemState
from core.queries import admin as admin_queries
from core.queries import health as health_queries
from core.queries import incidents as incident_queries
from core.queries import items as item_queries
from ui import charts
from ui import format as fmt
from ui.context import app, check_session, demo_banner, require_actor
from ui.format import duration

REFRESH_S = 10
WORKER_DOWN_AFTER_S = 30
API_LOW_SHARE = 0.10

require_actor()
st.title("Live")
demo_banner()


@st.cache_data(ttl=5, max_entries=4, show_spinner=False)
def _snapshot() -> dict:
    db = app().db
    return {"summary": item_queries.live_summary(db), "health": health_queries.health(db),
            "minutes": item_queries.per_minute(db, 60), "feed": item_queries.recent_high_risk(db, 15),
            "incidents": incident_queries.active_incidents_with_clocks(db),
            "backlog_limit_min": admin_queries.thresholds(db, app().settings).backlog_limit_minutes}


def banners(s: dict, h: dict, backlog_limit_min: float) -> None:
    beat = h["worker_heartbeat_s"]
    if beat is None:
        st.error("Worker down: no worker has reported a heartbeat. Files are not being verified.")
    elif beat > WORKER_DOWN_AFTER_S:
        st.error(f"Worker down: the last heartbeat was {duration(beat)} ago. Files are not being verified.")
    oldest = s["oldest_unverified_s"]
    if oldest is not None and oldest > backlog_limit_min * 60:
        st.warning(f"Backlog growing: the oldest unverified file has waited {duration(oldest)} "
                   f"(limit {backlog_limit_min:g} min); {s['unverified']} files wait for a verdict.")
    if h["restore_failed"]:
        st.error(f"{h['restore_failed']} released file(s) could not be restored in Salesforce: the org still "
                 "holds them and does not show them as released. Settings > Dead letters says why and sends "
                 "them again.")
    used, limit = h["api_used"], h["api_limit"]
    if used is not None and limit and (limit - used) / limit < API_LOW_SHARE:
        st.warning(f"Salesforce API budget low: {limit - used:,} of {limit:,} calls left in the 24-hour window.")
    salesforce_problems(h)


def salesforce_problems(h: dict) -> None:
    """What the org refuses, in its own words and the permission it names (plain text: it comes from the org)."""
    if h["last_poll_error"]:
        st.error("Salesforce ingest needs attention: files may go unverified until this is fixed "
                 "(`python -m core salesforce check` tests every permission).")
        st.text(h["last_poll_error"])
    if h["dead_letters"] and h["latest_dead_letter"]:
        st.warning(f"{h['dead_letters']} effect(s) on Salesforce or email failed for good; the latest said "
                   "(Settings > Dead letters lists them and sends them again):")
        st.text(h["latest_dead_letter"])


def figures(s: dict, h: dict) -> None:
    row = st.columns(5)
    row[0].metric("Verified, last 15 min", s["verified_15m"])
    row[1].metric("Verified, last hour", s["verified_1h"])
    row[2].metric("Verified, last 24 h", s["verified_24h"])
    row[3].metric("Flagged, last 24 h", s["flagged_24h"])
    row[4].metric("Quarantined now", s["held_now"])
    row = st.columns(5)
    row[0].metric("Awaiting review", s["awaiting_review"])
    row[1].metric("Waiting for a verdict", s["unverified"])
    row[2].metric("Oldest unverified", duration(s["oldest_unverified_s"]) if s["oldest_unverified_s"] else "none")
    row[3].metric("Outbox backlog", h["outbox_backlog"], help=f"{h['dead_letters']} dead letters")
    row[4].metric("Dead letters", h["dead_letters"])
    row = st.columns(5)
    if h["restore_failed"]:
        st.error(f"{h['restore_failed']} released file(s) could not be restored in Salesforce: the org still "
                 "holds them and does not show them as released. Settings > Dead letters says why and sends "
                 "them again.")
    used, limit = h["api_used"], h["api_limit"]
    row[0].metric("API budget left", fmt.EMPTY if not limit else f"{(limit - used) / limit:.0%}",
                  help="The org has not reported its API usage yet." if not limit
                  else f"{limit - used:,} of {limit:,} calls left in the 24-hour window")
    row[1].metric("Worker heartbeat", "never" if h["worker_heartbeat_s"] is None
                  else f"{duration(h['worker_heartbeat_s'])} ago")
    row[2].metric("In review", s["in_review"])


def chart(minutes) -> None:
    local = minutes.assign(minute=minutes["minute"].dt.tz_convert(fmt.zone_name()).dt.tz_localize(None))
    fig = go.Figure([go.Bar(x=local["minute"], y=local["verified"], name="Verified"),
                     go.Bar(x=local["minute"], y=local["flagged"], name="Flagged")])
    fig.update_layout(barmode="group", height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"Files verified and flagged per minute, last hour ({fmt.zone_name()})",
                      legend_orientation="h", yaxis=charts.count_axis([*local["verified"], *local["flagged"]]),
                      xaxis=dict(tickformat="%H:%M"))
    st.plotly_chart(fig, width="stretch", key="live-per-minute")


def incidents(active: list[dict]) -> None:
    """Each open incident with its regulatory clocks counting down."""
    if not active:
        st.info("No active incident.")
    for incident in active:
        st.text(f"{incident['reference']}  {incident['severity']}  {IncidentStatus(incident['status']).label}: "
                f"{incident['title']}")
        clocks = pd.DataFrame(incident["clocks"], columns=["title", "state", "remaining_s", "deadline"])
        if not clocks.empty:
            clocks["left"] = [fmt.EMPTY if c["state"] == "met" else fmt.remaining(c["remaining_s"])
                              for c in incident["clocks"]]
            fmt.table(clocks, {"title": "Clock", "state": "State", "left": "Time left", "deadline": ("Deadline", fmt.TIME)},
                      labels={"state": CLOCK_STATES.get}, key=f"live-clocks-{incident['id']}")


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    check_session(activity=False)  # a timed refresh is not activity: the idle clock keeps running
    snap = _snapshot()
    s, h = snap["summary"], snap["health"]
    banners(s, h, snap["backlog_limit_min"])
    figures(s, h)
    chart(snap["minutes"])
    left, right = st.columns(2)
    with left:
        st.subheader("Recent high-risk detections")
        feed = snap["feed"].assign(open=lambda f: "/review?item=" + f["id"].astype(str))
        if feed.empty:
            st.info("No high-risk file so far.")
        else:
            fmt.table(feed, {"id": "Item", "file_name": "File", "state": "State", "source_object": "Attached to",
                             "scanned_at": ("Flagged", fmt.TIME),
                             "open": ("Review", st.column_config.LinkColumn("Review", display_text="open"))},
                      labels={"state": lambda v: fmt.label(ItemState, v), "source_object": fmt.record_type},
                      key="live-feed")
    with right:
        st.subheader("Active incidents")
        incidents(snap["incidents"])
    st.caption(f"Refreshes every {REFRESH_S} s.")


live()
