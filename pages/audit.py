"""Audit: the tamper-evident trail, its chain status, search, filters and export."""
import io
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from core.commands import audit as audit_service
from core.domain.audit_actions import AuditAction
from core.domain.roles import Action, Actor, may
from core.queries import audit as audit_queries
from ui import format as fmt
from ui.context import app, demo_banner, require_actor

actor = require_actor()
st.title("Audit trail")
demo_banner()


@st.cache_data(ttl=30, max_entries=4, show_spinner="Verifying the chain...")
def _chain_status(_actor_id: str, role: str):
    report = audit_service.verify_chain(app().db, actor=Actor(_actor_id, role), key=app().settings.audit_key)
    return report.ok, report.count, report.head_hash, report.first_broken_seq, report.problem


@st.cache_data(ttl=60, max_entries=2, show_spinner=False)
def _choices():
    db = app().db
    return audit_queries.distinct_actors(db), audit_queries.distinct_actions(db), audit_queries.distinct_object_types(db)


if may(actor, Action.AUDIT_VERIFY):
    ok, count, head, broken_at, problem = _chain_status(actor.id, actor.role)
    if ok:
        st.success(f"Chain intact: {count} events. Head hash `{head}`")
    else:
        st.error(f"Chain BROKEN at sequence {broken_at}: {problem}")
else:
    st.caption("Chain verification is available to compliance leads, admins and auditors.")

actors, actions, object_types = _choices()
any_ = lambda v: "any" if v is None else v
cols = st.columns([2, 2, 2, 2])
text = cols[0].text_input("Search", placeholder="object id, actor, action or reason", key="a-text")
who = cols[1].selectbox("Actor", [None, *actors], format_func=any_, key="a-actor")
action = cols[2].selectbox("Action", [None, *actions], key="a-action",
                           format_func=lambda v: "any" if v is None else fmt.label(AuditAction, v))
object_type = cols[3].selectbox("About", [None, *object_types], key="a-object-type",
                                format_func=lambda v: "anything" if v is None else fmt.words(v))
cols = st.columns([2, 2, 1])
object_id = cols[0].text_input("Object id", key="a-object-id")
today = datetime.now(UTC).date()
chosen = cols[1].date_input("Date range (UTC)", value=(), key="a-range")
limit = cols[2].number_input("Rows", min_value=10, max_value=5000, value=200, step=50, key="a-limit")
filters = {"text": text, "who": who, "action": action, "object_type": object_type, "object_id": object_id.strip()}
if chosen:
    filters["since"] = datetime.combine(chosen[0], time.min, tzinfo=UTC)
    filters["until"] = datetime.combine(chosen[-1], time.min, tzinfo=UTC) + timedelta(days=1)

events = audit_queries.search_events(app().db, actor=actor, limit=int(limit), **filters)
st.caption(f"{len(events)} event(s), newest first" + (f" (the first {int(limit)})" if len(events) == limit else "") + ".")
shown = events.assign(about=[fmt.about(t, i) for t, i in zip(events["object_type"], events["object_id"])],
                      details=events["after"].map(fmt.details))
fmt.table(shown, {"seq": "#", "occurred_at": ("When", fmt.TIME), "actor": "Who", "action": "What", "about": "About",
                  "reason": "Reason", "outcome": "Outcome", "details": "Details"},
          labels={"action": lambda v: fmt.label(AuditAction, v)}, key="a-events")
fmt.raw(events.head(50).to_dict("records"), "The newest 50 events as recorded, with their hashes (JSON)")

if may(actor, Action.AUDIT_EXPORT):
    left, right = st.columns(2)
    if left.button("Prepare export of the whole trail (JSON Lines)", key="a-jsonl"):
        buffer = io.StringIO()
        report = audit_service.export_jsonl(app().uow(), actor=actor, out=buffer)
        left.download_button(f"Download {report.count} events (JSON Lines)", buffer.getvalue(),
                             file_name="audit-trail.jsonl", mime="application/x-ndjson", key="a-jsonl-dl")
    if right.button("Prepare CSV of the filtered events", key="a-csv"):
        buffer = io.StringIO()
        count = audit_queries.export_csv(app().db, actor=actor, out=buffer, **filters)
        right.download_button(f"Download {count} events (CSV)", buffer.getvalue(),
                              file_name="audit-events.csv", mime="text/csv", key="a-csv-dl")
else:
    st.caption("Exports are available to compliance leads, admins and auditors.")
