"""Communications: template and audience -> prefilled draft -> edit (changes shown against the
prefill) -> approval for external audiences -> send (once, confirmed when it leaves the firm) ->
delivery log per recipient."""
import pandas as pd
import streamlit as st

from core.commands import communications
from core.domain.incidents import Audience, IncidentStatus
from core.domain.messages import ALREADY_SENT, EDITABLE, DeliveryStatus, MessageStatus
from core.domain.roles import Action, may
from core.queries import incidents as q
from core.queries import messages
from ui import format as fmt
from ui.actions import new_token, run_action, show_errors, show_toasts, toast
from ui.context import app, check_session, demo_banner, require_actor

INCIDENT_KEY, COMM_KEY, DRAFT_TOKEN, SEND_KEY = "incident_id", "comm_id", "draft_token", "confirm_send"
CHANNELS = {"email": "Email (SMTP)", "salesforce": "Salesforce emailSimple"}

actor = require_actor()
st.title("Communications")
demo_banner()
show_toasts()


@st.cache_data(ttl=5, max_entries=8, show_spinner=False)
def _incidents() -> pd.DataFrame:
    return q.list_incidents(app().db)


def _clock_titles() -> dict[str, str]:
    return {r.id: r.title for r in q.clock_rules()}


def _draft(incident_id: int, template: str) -> None:
    token = st.session_state.setdefault(DRAFT_TOKEN, new_token())
    extra = [a.strip() for a in st.session_state.get("new_extra", "").split(",") if a.strip()]
    audience = st.session_state[f"new_audience-{template}"]
    rule = st.session_state.get(f"new_clock-{template}")
    comm_id = run_action(
        communications.create_draft, done=lambda i: f"Draft {i} prefilled from the incident's evidence.",
        uow=app().uow(), actor=actor, incident_id=incident_id, template=template, idempotency_key=f"draft-{token}",
        audience=audience, channel=st.session_state["new_channel"], place="new-message",
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
                                key=f"new_audience-{template}", format_func=lambda a: Audience(a).label,
                                help="Regulator, customers and law enforcement need a compliance lead's approval "
                                     "before sending.")
        contacts = q.contacts_for_audience(app().db, audience)
        st.multiselect("Recipients from the contacts directory", [c["email"] for c in contacts],
                       default=[c["email"] for c in contacts], key=f"new_recipients-{template}-{audience}")
        st.text_input("Other addresses (comma-separated)", key="new_extra")
        channels = list(communications.CHANNEL_KINDS)
        st.radio("Channel", channels, horizontal=True, key="new_channel",
                 index=channels.index(communications.default_channel(app().settings)), format_func=CHANNELS.get)
        titles = _clock_titles()
        rules = ["none"] + list(titles)
        st.selectbox("Regulatory clock this message satisfies", rules, key=f"new_clock-{template}",
                     index=rules.index(info.get("clock_rule") or "none"),
                     format_func=lambda r: "none" if r == "none" else titles[r])
        st.button("Prepare draft", type="primary", key="prepare-draft", on_click=_draft,
                  args=(incident_id, template))
        show_errors("new-message")


def _save(comm_id: int) -> None:
    ss = st.session_state
    current = q.communication(app().db, comm_id)
    if (ss[f"subject-{comm_id}"], ss[f"body-{comm_id}"]) == (current["subject"], current["body_text"]):
        toast("Nothing changed: the draft is as it was.")
        return
    run_action(communications.edit_draft, done="Draft saved.", uow=app().uow(), actor=actor, place=f"editor-{comm_id}",
               communication_id=comm_id, subject=ss[f"subject-{comm_id}"], body_text=ss[f"body-{comm_id}"])


def _act(fn, comm_id: int, done) -> None:
    extra = {"internal_domains": app().settings.internal_domains} if fn is communications.send else {}
    run_action(fn, done=done, token=f"{fn.__name__}-{comm_id}" if fn is communications.send else None,
               uow=app().uow(), actor=actor, communication_id=comm_id, place=f"send-{comm_id}", **extra)


def editor(message: dict) -> None:
    cid = message["id"]
    editable = message["status"] in EDITABLE and may(actor, Action.MESSAGE_DRAFT)
    st.text_input("Subject", value=message["subject"], key=f"subject-{cid}", disabled=not editable)
    st.text_area("Text", value=message["body_text"], key=f"body-{cid}", height=320, disabled=not editable)
    if editable:
        st.button("Save changes", key=f"save-{cid}", on_click=_save, args=(cid,))
    show_errors(f"editor-{cid}")
    diff = messages.changes(message["prefilled_text"], message["body_text"])
    if diff:
        st.caption("Changes against the prefilled text")
        st.code(diff, language="diff")
    else:
        st.caption("Unchanged from the prefilled text.")
    with st.expander("HTML part (as sent)"):
        st.code(message["body_html"], language="html")


@st.dialog("Send outside the firm?", on_dismiss=lambda: st.session_state.pop(SEND_KEY, None))
def confirm_send(message: dict) -> None:
    """Nothing leaves for a regulator, customers or law enforcement without a last look at who
    receives it and which clock it stops."""
    cid = message["id"]
    st.markdown(f"**To {Audience(message['audience']).label.lower()}**")
    st.text("\n".join(f"• {r['email']}" for r in message["recipients"]))
    st.markdown("**Subject**")
    st.text(message["subject"])  # written by a person: shown as text, never as markup
    if message["clock_rule"]:
        st.write(f"Sending it stops the clock **{_clock_titles().get(message['clock_rule'], message['clock_rule'])}**.")
    st.caption("A message is sent once; it cannot be recalled.")
    left, right = st.columns(2)
    if left.button("Send now", key=f"send-confirmed-{cid}", type="primary", width="stretch") and run_action(
            communications.send, done=lambda r: r.message, token=f"send-{cid}", uow=app().uow(), actor=actor,
            communication_id=cid, internal_domains=app().settings.internal_domains, place="send-dialog"):
        st.session_state.pop(SEND_KEY, None)
        st.rerun()
    if right.button("Cancel", key=f"send-cancel-{cid}", width="stretch"):
        st.session_state.pop(SEND_KEY, None)
        st.rerun()
    show_errors("send-dialog")


def _ask_to_send(comm_id: int) -> None:
    st.session_state[SEND_KEY] = comm_id


def approval_and_send(message: dict) -> None:
    cid, status = message["id"], MessageStatus(message["status"])
    reasons = communications.approval_needed(app().db, cid, app().settings.internal_domains)
    row = st.container(horizontal=True)
    if reasons:
        row.button("Request approval", key=f"request-{cid}", disabled=status != MessageStatus.DRAFT
                   or not may(actor, Action.MESSAGE_DRAFT), on_click=_act,
                   args=(communications.request_approval, cid, "Approval requested."))
        row.button("Approve", key=f"approve-{cid}",
                   disabled=status not in (MessageStatus.DRAFT, MessageStatus.PENDING_APPROVAL)
                   or not may(actor, Action.MESSAGE_APPROVE_EXTERNAL),
                   on_click=_act, args=(communications.approve, cid, "Approved for sending."))
    needed = Action.MESSAGE_SEND_EXTERNAL if reasons else Action.MESSAGE_SEND_INTERNAL
    sendable = may(actor, needed) and status not in ALREADY_SENT and (not reasons or status == MessageStatus.APPROVED)
    label = "Sent" if status in ALREADY_SENT else "Send…" if reasons else "Send"
    if reasons:  # it leaves the firm or stops a clock: confirm first
        row.button(label, type="primary", key=f"send-{cid}", disabled=not sendable, on_click=_ask_to_send, args=(cid,))
    else:
        row.button(label, type="primary", key=f"send-{cid}", disabled=not sendable,
                   on_click=_act, args=(communications.send, cid, lambda r: r.message))
    show_errors(f"send-{cid}")
    if reasons and status not in (MessageStatus.APPROVED, *ALREADY_SENT):
        st.caption("A compliance lead who did not write or edit this message must approve it first: "
                   + "; ".join(reasons) + ".")
    if st.session_state.get(SEND_KEY) == cid and sendable:
        confirm_send(message)


@st.fragment(run_every=3)
def delivery_log(comm_id: int) -> None:
    check_session(activity=False)  # a timed refresh is not activity: the idle clock keeps running
    message = q.communication(app().db, comm_id)
    st.markdown(f"Status: **{MessageStatus(message['status']).label}**"
                + (f", sent by {message['sent_by']}" if message["sent_by"] else ""))
    log = q.deliveries(app().db, comm_id)
    if not log.empty:
        fmt.table(log, {"recipient": "Recipient", "channel": "Channel", "status": "Delivery", "attempts": "Attempts",
                        "last_error": "Last error", "delivered_at": ("Delivered", fmt.TIME)},
                  labels={"status": lambda v: fmt.label(DeliveryStatus, v), "channel": CHANNELS.get},
                  key=f"deliveries-{comm_id}")


listed = _incidents()
if listed.empty:
    st.info("No incident has been declared: declare one on the Incidents page first.")
    st.stop()
ids = [int(i) for i in listed["id"]]
if st.session_state.get(INCIDENT_KEY) not in ids:
    st.session_state[INCIDENT_KEY] = ids[0]
titles = {int(r.id): f"INC-{r.id:04d} {r.severity} {fmt.label(IncidentStatus, r.status).lower()}: {r.title}"
          for r in listed.itertuples()}
incident_id = st.selectbox("Incident", ids, format_func=titles.get, key=INCIDENT_KEY)

if may(actor, Action.MESSAGE_DRAFT):
    new_message(incident_id)

sent = q.list_communications(app().db, incident_id=incident_id)
if sent.empty:
    st.info("No message for this incident yet.")
    st.stop()
template_titles = {n: messages.template_info(n)["title"] for n in set(sent["template"])}
fmt.table(sent, {"id": "Message", "template": "Template", "audience": "To", "subject": "Subject", "status": "Status",
                 "author": "Written by", "sent_at": ("Sent", fmt.TIME)},
          labels={"template": template_titles.get, "audience": lambda v: fmt.label(Audience, v),
                  "status": lambda v: fmt.label(MessageStatus, v)}, key="messages")
comm_ids = [int(i) for i in sent["id"]]
if st.session_state.get(COMM_KEY) not in comm_ids:
    st.session_state[COMM_KEY] = comm_ids[0]
labels = {int(r.id): f"#{r.id} {template_titles[r.template]} to {fmt.label(Audience, r.audience).lower()} "
                     f"({fmt.label(MessageStatus, r.status).lower()})" for r in sent.itertuples()}
comm_id = st.selectbox("Message", comm_ids, format_func=labels.get, key=COMM_KEY)
chosen = q.communication(app().db, comm_id)
st.subheader(f"#{comm_id} {template_titles.get(chosen['template']) or messages.template_info(chosen['template'])['title']}"
             f" to {fmt.label(Audience, chosen['audience']).lower()}")
st.caption("To: " + (", ".join(r["email"] for r in chosen["recipients"]) or "nobody yet")
           + f" via {CHANNELS.get(chosen['channel'], chosen['channel'])}"
           + (f"; stops the clock {_clock_titles().get(chosen['clock_rule'], chosen['clock_rule'])}"
              if chosen["clock_rule"] else ""))
editor(chosen)
approval_and_send(chosen)
delivery_log(comm_id)
