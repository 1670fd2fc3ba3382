"""Communications: template and audience -> prefilled draft -> edit (changes shown against the
prefill) -> approval for external audiences -> send (once) -> delivery log per recipient."""
import pandas as pd
import streamlit as st

from core.commands import communications
from core.domain.incidents import Audience
from core.domain.messages import ALREADY_SENT, EDITABLE, MessageStatus
from core.domain.roles import Action, may
from core.queries import incidents as q
from core.queries import messages
from ui.actions import new_token, run_action, show_flash
from ui.context import app, check_session, demo_banner, require_actor

INCIDENT_KEY, COMM_KEY, DRAFT_TOKEN = "incident_id", "comm_id", "draft_token"

actor = require_actor()
st.title("Communications")
demo_banner()
show_flash()


@st.cache_data(ttl=5, max_entries=8, show_spinner=False)
def _incidents() -> pd.DataFrame:
    return q.list_incidents(app().db)


def _draft(incident_id: int, template: str) -> None:
    token = st.session_state.setdefault(DRAFT_TOKEN, new_token())
    extra = [a.strip() for a in st.session_state.get("new_extra", "").split(",") if a.strip()]
    audience = st.session_state[f"new_audience-{template}"]
    rule = st.session_state.get(f"new_clock-{template}")
    comm_id = run_action(
        communications.create_draft, done=lambda i: f"Draft {i} prefilled from the incident's evidence.",
        uow=app().uow(), actor=actor, incident_id=incident_id, template=template, idempotency_key=f"draft-{token}",
        audience=audience, channel=st.session_state["new_channel"],
        recipients=list(st.session_state.get(f"new_recipients-{template}-{audience}", [])) + extra,
        clock_rule=None if rule == "none" else rule)
    if comm_id:
        st.session_state[COMM_KEY] = comm_id
        st.session_state.pop(DRAFT_TOKEN, None)


def new_message(incident_id: int) -> None:
    with st.expander("New message", expanded=COMM_KEY not in st.session_state):
        names = messages.template_names()
        template = st.selectbox("Template", names, format_func=lambda n: messages.template_info(n)["title"],
                                key="new_template")
        info = messages.template_info(template)
        audiences = [a.value for a in Audience]
        audience = st.selectbox("Audience", audiences, index=audiences.index(info["audience"]),
                                key=f"new_audience-{template}", help="Regulator, customers and law enforcement need a "
                                                         "compliance lead's approval before sending.")
        contacts = q.contacts_for_audience(app().db, audience)
        st.multiselect("Recipients from the contacts directory", [c["email"] for c in contacts],
                       default=[c["email"] for c in contacts], key=f"new_recipients-{template}-{audience}")
        st.text_input("Other addresses (comma-separated)", key="new_extra")
        channels = list(communications.CHANNEL_KINDS)
        st.radio("Channel", channels, horizontal=True, key="new_channel",
                 index=channels.index(communications.default_channel(app().settings)),
                 format_func={"email": "Email (SMTP)", "salesforce": "Salesforce emailSimple"}.get)
        rules = ["none"] + [r.id for r in q.clock_rules()]
        st.selectbox("Regulatory clock this message satisfies", rules, key=f"new_clock-{template}",
                     index=rules.index(info.get("clock_rule") or "none"))
        st.button("Prepare draft", type="primary", key="prepare-draft", on_click=_draft,
                  args=(incident_id, template))


def _save(comm_id: int) -> None:
    run_action(communications.edit_draft, done="Draft saved.", uow=app().uow(), actor=actor,
               communication_id=comm_id, subject=st.session_state[f"subject-{comm_id}"],
               body_text=st.session_state[f"body-{comm_id}"])


def _act(fn, comm_id: int, done) -> None:
    extra = {"internal_domains": app().settings.internal_domains} if fn is communications.send else {}
    run_action(fn, done=done, token=f"{fn.__name__}-{comm_id}" if fn is communications.send else None,
               uow=app().uow(), actor=actor, communication_id=comm_id, **extra)


def editor(message: dict) -> None:
    cid = message["id"]
    editable = message["status"] in EDITABLE and may(actor, Action.MESSAGE_DRAFT)
    st.text_input("Subject", value=message["subject"], key=f"subject-{cid}", disabled=not editable)
    st.text_area("Text", value=message["body_text"], key=f"body-{cid}", height=320, disabled=not editable)
    if editable:
        st.button("Save changes", key=f"save-{cid}", on_click=_save, args=(cid,))
    diff = messages.changes(message["prefilled_text"], message["body_text"])
    if diff:
        st.caption("Changes against the prefilled text")
        st.code(diff, language="diff")
    else:
        st.caption("Unchanged from the prefilled text.")
    with st.expander("HTML part (as sent)"):
        st.code(message["body_html"], language="html")


def approval_and_send(message: dict) -> None:
    cid = message["id"]
    reasons = communications.approval_needed(app().db, cid, app().settings.internal_domains)
    cols = st.columns(3)
    if reasons:
        cols[0].button("Request approval", key=f"request-{cid}", disabled=message["status"] != MessageStatus.DRAFT
                       or not may(actor, Action.MESSAGE_DRAFT), on_click=_act,
                       args=(communications.request_approval, cid, "Approval requested."))
        cols[1].button("Approve", key=f"approve-{cid}",
                       disabled=message["status"] not in (MessageStatus.DRAFT, MessageStatus.PENDING_APPROVAL)
                       or not may(actor, Action.MESSAGE_APPROVE_EXTERNAL),
                       on_click=_act, args=(communications.approve, cid, "Approved for sending."))
    needed = Action.MESSAGE_SEND_EXTERNAL if reasons else Action.MESSAGE_SEND_INTERNAL
    cols[2].button("Send", type="primary", key=f"send-{cid}", disabled=not may(actor, needed)
                   or (bool(reasons) and message["status"] != MessageStatus.APPROVED),
                   on_click=_act, args=(communications.send, cid, lambda r: r.message))
    if reasons and message["status"] != MessageStatus.APPROVED and message["status"] not in ALREADY_SENT:
        st.caption("A compliance lead who did not write or edit this message must approve it first: "
                   + "; ".join(reasons) + ".")


@st.fragment(run_every=3)
def delivery_log(comm_id: int) -> None:
    check_session(activity=False)  # a timed refresh is not activity: the idle clock keeps running
    message = q.communication(app().db, comm_id)
    st.write(f"Status: **{message['status']}**" + (f", sent by {message['sent_by']}" if message["sent_by"] else ""))
    log = q.deliveries(app().db, comm_id)
    if not log.empty:
        st.dataframe(log, hide_index=True, width="stretch", key=f"deliveries-{comm_id}")


listed = _incidents()
if listed.empty:
    st.info("No incident has been declared: declare one on the Incidents page first.")
    st.stop()
ids = [int(i) for i in listed["id"]]
if st.session_state.get(INCIDENT_KEY) not in ids:
    st.session_state[INCIDENT_KEY] = ids[0]
titles = {int(r.id): f"INC-{r.id:04d} {r.severity} {r.status}: {r.title}" for r in listed.itertuples()}
incident_id = st.selectbox("Incident", ids, format_func=titles.get, key=INCIDENT_KEY)

if may(actor, Action.MESSAGE_DRAFT):
    new_message(incident_id)

sent = q.list_communications(app().db, incident_id=incident_id)
if sent.empty:
    st.info("No message for this incident yet.")
    st.stop()
st.dataframe(sent, hide_index=True, width="stretch", key="messages")
comm_ids = [int(i) for i in sent["id"]]
if st.session_state.get(COMM_KEY) not in comm_ids:
    st.session_state[COMM_KEY] = comm_ids[0]
labels = {int(r.id): f"#{r.id} {r.template} to {r.audience} ({r.status})" for r in sent.itertuples()}
comm_id = st.selectbox("Message", comm_ids, format_func=labels.get, key=COMM_KEY)
chosen = q.communication(app().db, comm_id)
st.subheader(f"#{comm_id} {messages.template_info(chosen['template'])['title']} to {chosen['audience']}")
st.caption("To: " + (", ".join(r["email"] for r in chosen["recipients"]) or "nobody yet")
           + f" via {chosen['channel']}" + (f"; stops clock {chosen['clock_rule']}" if chosen["clock_rule"] else ""))
editor(chosen)
approval_and_send(chosen)
delivery_log(comm_id)
