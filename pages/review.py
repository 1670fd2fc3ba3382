"""Review queue: flagged media waiting for a person's decision, and the item view to decide it."""
import streamlit as st

from core.commands import incidents as incident_service
from core.commands import items as item_service
from core.domain.decisions import CONFIRM_REASONS, RELEASE_REASONS
from core.domain.incidents import Severity
from core.domain.lifecycle import HELD, ItemState, Risk
from core.domain.roles import Action, may
from core.queries import admin as admin_queries
from core.queries import items as item_queries
from ui import item_view
from ui.actions import flash, run_action, show_flash
from ui.context import app, current_actor, demo_banner, require_actor

ITEM_KEY = "review_item"
DIALOG_KEY = "review_dialog"  # (which dialog, item id, decision id): reopened on every rerun until done
RISKS = [Risk.HIGH, Risk.MEDIUM, Risk.UNSCANNABLE, Risk.LOW]

actor = require_actor()
st.title("Review queue")
demo_banner()
show_flash()
if "item" in st.query_params and ITEM_KEY not in st.session_state:
    st.session_state[ITEM_KEY] = int(st.query_params["item"]) if st.query_params["item"].isdigit() else None
sla_hours = admin_queries.thresholds(app().db, app().settings).review_sla_hours


@st.cache_data(ttl=5, max_entries=16, show_spinner=False)
def _queue(sla: float, **filters):
    db = app().db
    return item_queries.review_queue(db, sla_hours=sla, **filters), item_queries.queue_stats(db, sla_hours=sla, **filters)


@st.cache_data(ttl=60, max_entries=2, show_spinner=False)
def _options():
    return item_queries.queue_filter_options(app().db), item_queries.reviewers(app().db)


# -- callbacks: every change goes through a service, once per click ------------------------------
def _open_dialog(kind: str, item_id: int, decision_id: int | None = None) -> None:
    st.session_state[DIALOG_KEY] = (kind, item_id, decision_id)


def _close_dialog() -> None:
    st.session_state.pop(DIALOG_KEY, None)


def _go_next(done_item: int) -> None:
    st.session_state[ITEM_KEY] = item_queries.next_in_queue(app().db, reviewer=current_actor().id, exclude=done_item)


def _claim(item_id: int) -> None:
    run_action(item_service.start_review, uow=app().uow(), actor=current_actor(), item_id=item_id,
               done=f"Item {item_id} is yours to review.")


def _return(item_id: int) -> None:
    run_action(item_service.return_to_queue, uow=app().uow(), actor=current_actor(), item_id=item_id,
               done=f"Item {item_id} went back to the queue.")


def _assign(item_id: int) -> None:
    who = st.session_state.get("assign-to")
    if who:
        run_action(item_service.assign_item, uow=app().uow(), actor=current_actor(), item_id=item_id,
                   assignee=who, done=f"Item {item_id} assigned to {who}.")


def _confirm(item_id: int) -> None:
    _close_dialog()
    if run_action(item_service.confirm_synthetic, uow=app().uow(), actor=current_actor(),
                  item_id=item_id, reason_code=st.session_state["confirm-reason"],
                  note=st.session_state.get("confirm-note", ""),
                  done=f"Item {item_id} confirmed synthetic; its hashes joined the known-synthetic bank."):
        _go_next(item_id)


def _release(item_id: int, high_risk: bool) -> None:
    _close_dialog()
    done = (f"Release of item {item_id} requested: it is high risk, so it waits for a second reviewer's approval."
            if high_risk else f"Item {item_id} released; its links are being restored.")
    if run_action(item_service.request_release, uow=app().uow(), actor=current_actor(),
                  item_id=item_id, reason_code=st.session_state["release-reason"],
                  note=st.session_state.get("release-note", ""), done=done):
        _go_next(item_id)


def _open_next() -> None:
    st.session_state[ITEM_KEY] = item_queries.next_in_queue(app().db, reviewer=current_actor().id)
    if st.session_state[ITEM_KEY] is None:
        flash("success", "The queue is empty.")


def _selected() -> None:
    rows = st.session_state["queue-table"].selection.rows
    ids = st.session_state.get("queue-ids", [])
    if rows and rows[0] < len(ids):
        st.session_state[ITEM_KEY] = ids[rows[0]]


def _approve(decision_id: int, item_id: int) -> None:
    _close_dialog()
    if run_action(item_service.approve_release, uow=app().uow(), actor=current_actor(),
                  decision_id=decision_id, done=f"Release of item {item_id} approved; its links are being restored."):
        _go_next(item_id)


def _escalate(item_id: int) -> None:
    _close_dialog()
    ss = st.session_state
    if run_action(incident_service.declare_incident, uow=app().uow(), actor=current_actor(),
                  title=ss.get("escalate-title", ""), severity=ss["escalate-severity"], item_ids=[item_id],
                  summary=ss.get("escalate-summary", ""),
                  done=lambda incident_id: f"Incident {incident_id} declared with item {item_id}; see Incidents."):
        _go_next(item_id)


# -- confirmation dialogs ------------------------------------------------------------------------
@st.dialog("Confirm synthetic", on_dismiss=_close_dialog)
def confirm_dialog(item_id: int) -> None:
    st.write(f"Item {item_id} stays quarantined for good and its hashes join the known-synthetic bank.")
    st.selectbox("Reason", list(CONFIRM_REASONS), format_func=CONFIRM_REASONS.get, key="confirm-reason")
    st.text_area("Note (required for 'other')", key="confirm-note")
    if st.button("Confirm synthetic", key="confirm-go", type="primary"):
        _confirm(item_id)
        st.rerun()  # a dialog is a fragment: rerun the whole page to close it and show the next item


@st.dialog("Release", on_dismiss=_close_dialog)
def release_dialog(item_id: int, high_risk: bool) -> None:
    st.write(f"Item {item_id}'s removed links come back to the customer records.")
    if high_risk:
        st.warning("High risk: a second reviewer must approve this release before it takes effect.")
    st.selectbox("Reason", list(RELEASE_REASONS), format_func=RELEASE_REASONS.get, key="release-reason")
    st.text_area("Note (required for 'other')", key="release-note")
    if st.button("Release", key="release-go", type="primary"):
        _release(item_id, high_risk)
        st.rerun()


@st.dialog("Approve release", on_dismiss=_close_dialog)
def approve_dialog(decision_id: int, item_id: int) -> None:
    st.write(f"You approve the release of item {item_id} requested by another reviewer (decision {decision_id}).")
    if st.button("Approve release", key="approve-go", type="primary"):
        _approve(decision_id, item_id)
        st.rerun()


@st.dialog("Escalate to an incident", on_dismiss=_close_dialog)
def escalate_dialog(item_id: int) -> None:
    st.write(f"Declare an incident with item {item_id} linked to it. You become its commander; "
             "the regulatory clocks start now.")
    st.text_input("Title", key="escalate-title")
    st.selectbox("Severity", list(Severity), index=1, key="escalate-severity")
    st.text_area("Summary", key="escalate-summary")
    if st.button("Declare incident", key="escalate-go", type="primary"):
        _escalate(item_id)
        st.rerun()


# -- the page ------------------------------------------------------------------------------------
def pending_section() -> None:
    pending = item_queries.pending_releases(app().db)
    if pending.empty:
        return
    st.subheader("Releases waiting for a second approver")
    st.dataframe(pending, hide_index=True, width="stretch", key="pending-table")


def queue_section() -> None:
    options, _ = _options()
    cols = st.columns([2, 2, 2, 2, 1])
    risks = cols[0].multiselect("Risk", RISKS, key="f-risk")
    source = cols[1].selectbox("Source object", [None, *options["source_object"]], key="f-source",
                               format_func=lambda v: "any" if v is None else v)
    assignee = cols[2].selectbox("Assignee", [None, item_queries.UNASSIGNED, *options["assignee"]], key="f-assignee",
                                 format_func=lambda v: "anyone" if v is None else v)
    detector = cols[3].selectbox("Detector fired", [None, *options["detector"]], key="f-detector",
                                 format_func=lambda v: "any" if v is None else v)
    older = cols[4].number_input("Older than (h)", min_value=0.0, value=0.0, step=1.0, key="f-age")
    queue, stats = _queue(sla_hours, risks=tuple(risks), source_object=source, assignee=assignee,
                          detector=detector, older_than_hours=older or None)
    st.caption(f"{stats['total']} items held for review, {stats['breached']} past the {sla_hours:g} h SLA, "
               f"{stats['unassigned']} unassigned. Oldest first; showing {len(queue)}.")
    if queue.empty:
        st.info("Nothing waits for review.")
        return
    st.button("Open next item", key="review-next", on_click=_open_next, type="primary")
    st.session_state["queue-ids"] = [int(i) for i in queue["id"]]
    st.dataframe(queue, hide_index=True, width="stretch", key="queue-table", on_select=_selected,
                 selection_mode="single-row")
    st.caption("Select a row to open the item.")


def actions(detail: dict) -> None:
    item, me = detail["item"], actor.id
    item_id, state = item["id"], item["state"]
    decider = may(actor, Action.ITEM_START_REVIEW)
    pending = item_queries.pending_releases(app().db, item_id)
    cols = st.columns(6)
    if decider and state == ItemState.QUARANTINED:
        cols[0].button("Claim", key="claim", on_click=_claim, args=(item_id,), type="primary")
    mine = state == ItemState.IN_REVIEW and item["assignee"] == me
    if decider and mine and pending.empty:
        cols[1].button("Confirm synthetic…", key="confirm-open", type="primary", on_click=_open_dialog,
                       args=("confirm", item_id))
        cols[2].button("Release…", key="release-open", on_click=_open_dialog, args=("release", item_id))
        cols[3].button("Return to queue", key="return", on_click=_return, args=(item_id,))
    elif decider and state == ItemState.IN_REVIEW and not mine:
        st.caption(f"Under review by {item['assignee']}.")
    if may(actor, Action.INCIDENT_DECLARE) and state in HELD:
        cols[4].button("Escalate…", key="escalate-open", on_click=_open_dialog, args=("escalate", item_id))
    for row in pending.itertuples():
        st.info(f"Release requested by {row.requested_by} ({row.reason_code}), waiting for a second approver.")
        if decider and row.requested_by != me:
            st.button("Approve release…", key=f"approve-open-{row.decision_id}", on_click=_open_dialog,
                      args=("approve", item_id, row.decision_id))
        elif decider:
            st.caption("You asked for this release: another reviewer approves it.")
    if may(actor, Action.ITEM_ASSIGN) and state in (ItemState.QUARANTINED, ItemState.IN_REVIEW):
        _, reviewers = _options()
        left, right = st.columns([3, 1])
        left.selectbox("Assign to", reviewers, key="assign-to")
        right.button("Assign", key="assign", on_click=_assign, args=(item_id,))
    if not decider and not may(actor, Action.ITEM_ASSIGN):
        st.caption("Your role can look at items but not decide them.")
    open_dialog(item)


def open_dialog(item: dict) -> None:
    """The dialog asked for, for this item, while its action has not run (a stray rerun keeps it)."""
    kind, item_id, decision_id = st.session_state.get(DIALOG_KEY) or (None, None, None)
    if item_id != item["id"]:
        return
    if kind == "confirm":
        confirm_dialog(item_id)
    elif kind == "release":
        release_dialog(item_id, item["risk"] == Risk.HIGH)
    elif kind == "escalate":
        escalate_dialog(item_id)
    elif kind == "approve":
        approve_dialog(decision_id, item_id)


def item_section(item_id: int) -> None:
    detail = item_queries.item_detail(app().db, actor=actor, item_id=item_id)
    if detail is None:
        st.warning(f"Item {item_id} does not exist.")
        return
    st.divider()
    st.header(f"Item {item_id}")
    item_view.facts(detail)
    actions(detail)
    item_view.media_panels(detail, actor)
    item_view.detectors(detail)
    item_view.provenance_and_records(detail)
    item_view.history(detail)


pending_section()
queue_section()
if st.session_state.get(ITEM_KEY):
    item_section(st.session_state[ITEM_KEY])
else:
    st.caption("Select an item in the queue to open it.")
