"""Audit: the tamper-evident trail, its chain status, search and export."""
import io

import streamlit as st

from core.domain.roles import Action, may
from core.queries import audit as audit_queries
from core.services import audit as audit_service
from ui.context import app, demo_banner, require_actor

st.title("Audit trail")
demo_banner()
actor = require_actor()


@st.cache_data(ttl=30, max_entries=4, show_spinner="Verifying the chain...")
def _chain_status(_actor_id: str, role: str):
    from core.domain.roles import Actor

    report = audit_service.verify_chain(app().db, actor=Actor(_actor_id, role), key=app().settings.audit_key)
    return report.ok, report.count, report.head_hash, report.first_broken_seq, report.problem


if may(actor, Action.AUDIT_VERIFY):
    ok, count, head, broken_at, problem = _chain_status(actor.id, actor.role)
    if ok:
        st.success(f"Chain intact: {count} events. Head hash `{head}`")
    else:
        st.error(f"Chain BROKEN at sequence {broken_at}: {problem}")
else:
    st.caption("Chain verification is available to compliance leads, admins and auditors.")

cols = st.columns([2, 1, 1])
text = cols[0].text_input("Search", placeholder="object id, actor, action or reason")
action = cols[1].selectbox("Action", [None, *audit_queries.distinct_actions(app().db)],
                           format_func=lambda a: "any" if a is None else a)
limit = cols[2].number_input("Rows", min_value=10, max_value=5000, value=200, step=50)
events = audit_queries.search_events(app().db, actor=actor, text=text, action=action, limit=int(limit))
st.dataframe(events, hide_index=True, width="stretch")

if may(actor, Action.AUDIT_EXPORT):
    if st.button("Prepare export of the whole trail"):
        buffer = io.StringIO()
        report = audit_service.export_jsonl(app().db, actor=actor, out=buffer)
        st.download_button(f"Download {report.count} events (JSON Lines)", buffer.getvalue(),
                           file_name="audit-trail.jsonl", mime="application/x-ndjson")
else:
    st.caption("Exports are available to compliance leads, admins and auditors.")
