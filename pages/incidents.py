"""Incidents: declare (and alert compliance in two clicks), then run the incident: status, roles,
clocks, linked items, customers affected, timeline with notes, evidence pack."""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from core.clock import utcnow
from core.commands import communications, evidence, incidents
from core.commands.users import list_users
from core.domain.audit_actions import AuditAction
from core.domain.clocks import MOMENT_LABELS
from core.domain.clocks import STATE_LABELS as CLOCK_STATES
from core.domain.incidents import SEVERITY_DEFINITIONS, IncidentStatus, Severity, allowed_next
from core.domain.lifecycle import ItemState, Risk
from core.domain.messages import ALREADY_SENT, DeliveryStatus, MessageStatus
from core.domain.roles import Action, may
from core.queries import incidents as q
from ui import format as fmt
from ui.actions import new_token, run_action, show_errors, show_toasts
from ui.context import app, check_session, demo_banner, require_actor

INCIDENT_KEY, ALERT_KEY, TOKEN_KEY, PACK_KEY = "incident_id", "alert_comm_id", "declare_token", "evidence_pack"

actor = require_actor()
st.title("Incidents")
demo_banner()
show_toasts()


@st.cache_resource(show_spinner=False)
def _demo_contacts_ready() -> bool:
    communications.ensure_demo_contacts(app().uow)
    return True


if app().settings.demo_mode:
    _demo_contacts_ready()


def _clock_titles() -> dict[str, str]:
    return {r.id: r.title for r in q.clock_rules()}


@st.cache_data(ttl=5, max_entries=8, show_spinner=False)
def _flagged() -> pd.DataFrame:
    return q.flagged_items(app().db)


@st.cache_data(ttl=5, max_entries=8, show_spinner=False)
def _incidents() -> pd.DataFrame:
    return q.list_incidents(app().db)


# -- declare --------------------------------------------------------------------------------------
def _declare(alert: bool) -> None:
    token = st.session_state.setdefault(TOKEN_KEY, new_token())
    incident_id = run_action(
        incidents.declare_incident, token=f"declare-{token}", done=lambda i: f"Incident {i} declared.",
        uow=app().uow(), actor=actor, title=st.session_state["declare_title"], place="declare",
        severity=st.session_state["declare_severity"], item_ids=st.session_state["declare_items"],
        summary=st.session_state.get("declare_summary", ""))
    if not incident_id:
        return
    st.session_state[INCIDENT_KEY] = incident_id
    st.session_state.pop(TOKEN_KEY, None)
    if alert:
        st.session_state[ALERT_KEY] = run_action(
            communications.create_draft, done="Compliance alert prefilled: check it and send.", place="declare",
            uow=app().uow(), actor=actor, incident_id=incident_id, template="compliance_alert",
            idempotency_key=f"alert-{token}", channel=communications.default_channel(app().settings))


def declare_form() -> None:
    flagged = _flagged()
    labels = {int(r.id): f"#{r.id} {r.file_name} ({fmt.label(Risk, r.risk).lower()} risk, "
                         f"{fmt.label(ItemState, r.state).lower()})" for r in flagged.itertuples()}
    with st.expander("Declare an incident", expanded=ALERT_KEY not in st.session_state):
        st.text_input("Title", key="declare_title",
                      value=f"Synthetic media in customer records, {utcnow():%Y-%m-%d}")
        st.selectbox("Severity", [s.value for s in Severity], index=1, key="declare_severity",
                     help="\n\n".join(f"**{s.value}**: {d}" for s, d in SEVERITY_DEFINITIONS.items()))
        st.multiselect("Files (flagged in the last 72 hours, all preselected)", list(labels),
                       default=list(labels), format_func=labels.get, key="declare_items")
        st.text_area("Summary (optional)", key="declare_summary", height=68)
        left, right = st.columns(2)
        left.button("Declare and alert compliance", type="primary", key="declare-alert", width="stretch",
                    on_click=_declare, args=(True,))
        right.button("Declare only", key="declare-only", width="stretch", on_click=_declare, args=(False,))
        show_errors("declare")


def _send_alert(comm_id: int) -> None:
    run_action(communications.send, token=f"send-{comm_id}", done=lambda r: r.message, place="alert",
               uow=app().uow(), actor=actor, communication_id=comm_id,
               internal_domains=app().settings.internal_domains)


@st.fragment(run_every=2)
def alert_delivery(comm_id: int) -> None:
    check_session(activity=False)  # a timed refresh is not activity: the idle clock keeps running
    message = q.communication(app().db, comm_id)
    log = q.deliveries(app().db, comm_id)
    if message["status"] == MessageStatus.SENT:
        st.success(f"Compliance alert sent: delivered to {len(log)} recipient(s).", icon=":material/check:")
    elif message["status"] == MessageStatus.FAILED:
        st.error("Compliance alert failed for some recipients: see the delivery log on Communications.")
    else:
        st.info(f"Compliance alert {MessageStatus(message['status']).label.lower()}: "
                f"{int((log['status'] == DeliveryStatus.DELIVERED).sum())} of {len(log)} delivered.")
    fmt.table(log, {"recipient": "Recipient", "status": "Delivery", "attempts": "Attempts", "last_error": "Last error",
                    "delivered_at": ("Delivered", fmt.TIME)},
              labels={"status": lambda v: fmt.label(DeliveryStatus, v)}, key=f"alert-log-{comm_id}")


def alert_panel(comm_id: int) -> None:
    message = q.communication(app().db, comm_id)
    with st.container(border=True):
        st.subheader("Compliance alert")
        if message["status"] in (MessageStatus.DRAFT, MessageStatus.APPROVED):
            st.write(f"**{message['subject']}**")
            st.caption("To: " + ", ".join(r["email"] for r in message["recipients"]) + f" (via {message['channel']})")
            st.text(message["body_text"])
            st.button("Send alert to compliance", type="primary", key="send-alert", on_click=_send_alert,
                      args=(comm_id,), disabled=not message["recipients"] or message["status"] in ALREADY_SENT)
            show_errors("alert")
            if not message["recipients"]:
                st.warning("No compliance contact in the directory: add one under Settings.")
        else:
            alert_delivery(comm_id)
        if st.button("Done", key="alert-done"):
            st.session_state.pop(ALERT_KEY, None)
            st.rerun()


# -- one incident -----------------------------------------------------------------------------------
@st.fragment(run_every=30)
def clocks(incident_id: int) -> None:
    check_session(activity=False)  # a timed refresh is not activity: the idle clock keeps running
    rows = q.incident_clocks(app().db, incident_id)
    if not rows:
        st.caption("No regulatory clock applies to this severity.")
        return
    for c in rows:
        if c["state"] == "overdue":
            st.error(f"Overdue: {c['title']} ({fmt.remaining(c['remaining_s'])})")
        elif c["state"] == "warning":
            st.warning(f"Due soon: {c['title']}: {fmt.remaining(c['remaining_s'])}")
    frame = pd.DataFrame(rows).assign(
        left=lambda f: [fmt.EMPTY if c["state"] == "met" else fmt.remaining(c["remaining_s"]) for c in rows])
    fmt.table(frame, {"title": "Clock", "state": "State", "deadline": ("Deadline", fmt.TIME), "left": "Time left",
                      "kind": "Kind", "started_by": "Started by", "source": "Legal source"},
              labels={"state": CLOCK_STATES.get, "started_by": lambda v: MOMENT_LABELS.get(v, fmt.words(v)),
                      "kind": lambda v: "Legal deadline" if v == "deadline" else "Our target"},
              key=f"clocks-{incident_id}")


def status_and_roles(incident: dict, editable: bool) -> None:
    cols = st.columns(len(allowed_next(incident["status"])) + 1)
    cols[0].metric("Status", IncidentStatus(incident["status"]).label)
    for col, target in zip(cols[1:], allowed_next(incident["status"])):
        col.button("Reopen" if target == IncidentStatus.INVESTIGATING else f"Mark {target.label.lower()}",
                   key=f"status-{target}", disabled=not editable, on_click=run_action,
                   args=(incidents.change_status,),
                   kwargs={"done": f"Incident is {target.label.lower()}.", "uow": app().uow(), "actor": actor,
                           "place": "status",
                           "incident_id": incident["id"], "status": target,
                           "reason": "reopened from the Incidents page" if target == IncidentStatus.INVESTIGATING else ""})
    show_errors("status")
    if not editable:
        st.caption(f"Commander {fmt.text(incident['commander'])}; communications "
                   f"{fmt.text(incident['communications_lead'])}; compliance {fmt.text(incident['compliance_lead'])}")
        return
    emails = [""] + [u["email"] for u in list_users(app().db)]
    with st.form(f"roles-{incident['id']}"):
        picks = {role: st.selectbox(role.replace("_", " ").capitalize(), emails,
                                    index=emails.index(incident[role]) if incident[role] in emails else 0)
                 for role in incidents.ROLE_FIELDS}
        saved = st.form_submit_button("Save roles")
        if saved:
            _save_roles(incident, {k: v or None for k, v in picks.items()})
        show_errors("roles")


def _save_roles(incident: dict, picks: dict) -> None:
    if all(picks[k] == incident[k] for k in picks):
        st.info("Nothing changed: the roles are as they were.")
        return
    if run_action(incidents.assign_roles, done="Roles saved.", uow=app().uow(), actor=actor, place="roles",
                  incident_id=incident["id"], **picks):
        st.rerun()


def _record_now(incident_id: int, moment: str) -> None:
    run_action(incidents.record_moments, done=f"{MOMENT_LABELS[moment]}: recorded; the clocks it starts are running.",
               uow=app().uow(), actor=actor, incident_id=incident_id, place="moments", **{moment: utcnow()})


def clock_moments(incident: dict) -> None:
    """The moments that start the clocks: recorded once; a compliance lead corrects one with a reason,
    and records a notification made outside Response Desk (a portal submission) that stops a clock."""
    st.subheader("Moments that start the clocks")
    for moment, label in MOMENT_LABELS.items():
        left, right = st.columns([3, 2])
        when = incident[moment]
        fmt.moment(label, when, container=left)
        if when is None and may(actor, Action.INCIDENT_UPDATE):
            right.button("Record now", key=f"moment-{moment}-{incident['id']}", on_click=_record_now,
                         args=(incident["id"], moment))
    show_errors("moments")
    if may(actor, Action.INCIDENT_CORRECT_MOMENTS):
        with st.expander("Correct a recorded moment"), st.form(f"correct-{incident['id']}"):
            moment = st.selectbox("Moment", list(MOMENT_LABELS), format_func=MOMENT_LABELS.get)
            day, time_ = st.date_input("Date (UTC)"), st.time_input("Time (UTC)")
            reason = st.text_input("Why (kept on the audit trail)")
            if st.form_submit_button("Correct") and run_action(
                    incidents.record_moments, done=f"{MOMENT_LABELS[moment]} corrected.", uow=app().uow(),
                    actor=actor, incident_id=incident["id"], reason=reason, place="correct",
                    **{moment: datetime.combine(day, time_, tzinfo=UTC)}):
                st.rerun()
            show_errors("correct")
    if may(actor, Action.CLOCK_RECORD_SUBMISSION):
        with st.expander("Record a notification made outside Response Desk"), st.form(f"submission-{incident['id']}"):
            rules = _clock_titles()
            rule = st.selectbox("Clock it satisfies", list(rules), format_func=rules.get)
            day, time_ = st.date_input("Submitted on (UTC)"), st.time_input("At (UTC)")
            channel = st.text_input("How (e.g. the authority's breach portal)")
            reference = st.text_input("Reference the recipient issued (case number, receipt)")
            note = st.text_area("Note", height=68)
            if st.form_submit_button("Record submission") and run_action(
                    incidents.record_submission, done="Submission recorded: the clock is met.", place="submission",
                    uow=app().uow(), actor=actor, incident_id=incident["id"], clock_rule=rule,
                    submitted_at=datetime.combine(day, time_, tzinfo=UTC), channel=channel,
                    reference=reference, note=note):
                st.rerun()
            show_errors("submission")


def items_and_customers(incident_id: int) -> None:
    items = q.incident_items(app().db, incident_id)
    st.markdown(f"**Files: {len(items)}**")
    fmt.table(pd.DataFrame(items, columns=["id", "file_name", "state", "risk", "sha256"]),
              {"id": "Item", "file_name": "File", "risk": "Risk", "state": "State", "sha256": "SHA-256"},
              labels={"state": lambda v: fmt.label(ItemState, v), "risk": lambda v: fmt.label(Risk, v)},
              key=f"items-{incident_id}")
    affected = q.customers_affected(items)
    st.markdown(f"**Customers affected: {affected['customer_count']}**",
                help="Distinct customers: a business or person account, reached directly or through the account "
                     "a record names; a person account and its own contact are one person; a contact with no "
                     "known account counts on its own. The notices use this same count.")
    customers = pd.DataFrame(affected["customers"], columns=["id", "name", "kind", "records", "items"])
    fmt.table(customers.assign(records=customers["records"].map(", ".join),
                               items=customers["items"].map(lambda ids: ", ".join(map(str, ids)))),
              {"name": "Customer", "kind": "Kind", "records": "Through the records", "items": "Items", "id": "Id"},
              key=f"customers-{incident_id}")
    st.markdown(f"**Salesforce records: {affected['record_count']}**")
    records = pd.DataFrame(affected["records"], columns=["type", "name", "id", "items"])
    fmt.table(records.assign(items=records["items"].map(lambda ids: ", ".join(map(str, ids)))),
              {"name": "Record", "type": "Type", "id": "Id", "items": "Items"}, labels={"type": fmt.record_type},
              key=f"records-{incident_id}")


def _what(row) -> str:
    return "Note" if row["kind"] == "note" else fmt.label(AuditAction, row["what"])


def timeline(incident_id: int, editable: bool) -> None:
    events = q.timeline(app().db, incident_id)
    events = events.assign(what=events.apply(_what, axis=1) if not events.empty else events["what"],
                           object=events["object"].map(lambda o: fmt.about(*o.split(" ", 1))),
                           detail=events["detail"].map(fmt.details))
    fmt.table(events, {"at": ("When", fmt.TIME), "who": "Who", "what": "What", "object": "About", "detail": "Details"},
              key=f"timeline-{incident_id}")
    if editable:
        with st.form(f"note-{incident_id}", clear_on_submit=True):
            text = st.text_area("Add a note", height=68)
            if st.form_submit_button("Add note") and run_action(
                    incidents.add_note, done="Note added.", uow=app().uow(), actor=actor, incident_id=incident_id,
                    text=text, place="note"):
                st.rerun()
            show_errors("note")


def _prepare_pack(incident_id: int) -> None:
    data = run_action(evidence.build_pack, done="Evidence pack ready.", uow=app().uow(), actor=actor,
                      incident_id=incident_id, place="pack")
    if data:
        path = evidence.store_pack(data, app().settings.var_dir / "evidence", incident_id)
        st.session_state[PACK_KEY] = str(path)


def evidence_pack(incident_id: int) -> None:
    if not may(actor, Action.EVIDENCE_EXPORT):
        return
    st.button("Prepare evidence pack", key="prepare-pack", on_click=_prepare_pack, args=(incident_id,))
    show_errors("pack")
    path = st.session_state.get(PACK_KEY)
    if path and f"INC-{incident_id:04d}-" in path:
        with open(path, "rb") as fh:
            st.download_button("Download evidence pack", fh.read(), file_name=path.rsplit("/", 1)[-1],
                               mime="application/zip", key="download-pack")
        st.caption("Check it any time with `python -m core evidence verify PACK.zip`.")


def incident_view(incident_id: int) -> None:
    incident = q.incident(app().db, incident_id)
    editable = may(actor, Action.INCIDENT_UPDATE)
    st.header(f"{incident['reference']} {incident['severity']}: {incident['title']}")
    st.caption(f"{IncidentStatus(incident['status']).label}. {incident['severity_definition']}")
    if incident["summary"]:
        st.text(incident["summary"])
    tabs = st.tabs(["Clocks", "Status and roles", "Files and customers", "Timeline", "Evidence pack"],
                   key="incident-tab", on_change="rerun")  # keyed: the tab stays after an action
    with tabs[0]:
        clocks(incident_id)
        clock_moments(incident)
    with tabs[1]:
        status_and_roles(incident, editable)
    with tabs[2]:
        items_and_customers(incident_id)
    with tabs[3]:
        timeline(incident_id, editable)
    with tabs[4]:
        evidence_pack(incident_id)


if may(actor, Action.INCIDENT_DECLARE):
    declare_form()
if st.session_state.get(ALERT_KEY):
    alert_panel(st.session_state[ALERT_KEY])

listed = _incidents()
if listed.empty:
    st.info("No incident has been declared.")
else:
    ids = [int(i) for i in listed["id"]]
    linked = st.query_params.get("incident", "")  # a link from an email or a colleague: /incidents?incident=1
    if INCIDENT_KEY not in st.session_state and linked.isdigit() and int(linked) in ids:
        st.session_state[INCIDENT_KEY] = int(linked)
    if st.session_state.get(INCIDENT_KEY) not in ids:
        st.session_state[INCIDENT_KEY] = ids[0]
    titles = {int(r.id): f"INC-{r.id:04d} {r.severity} {fmt.label(IncidentStatus, r.status).lower()}: {r.title}"
              for r in listed.itertuples()}
    chosen = st.selectbox("Incident", ids, format_func=titles.get, key=INCIDENT_KEY)
    incident_view(chosen)
