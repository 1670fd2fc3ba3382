"""Review queue: flagged media waiting for a person's decision, and the item view to decide it.
The queue and the open item sit side by side; opening an item nobody holds claims it for a reviewer."""
import hashlib

import streamlit as st

from core.commands import incidents as incident_service
from core.commands import items as item_service
from core.domain.decisions import CONFIRM_REASONS, RELEASE_REASONS
from core.domain.incidents import Severity
from core.domain.lifecycle import HELD, ItemState, Risk
from core.domain.roles import Action, may
from core.queries import admin as admin_queries
from core.queries import items as item_queries
from ui import format as fmt
from ui import item_view
from ui.actions import run_action, show_errors, show_toasts, toast
from ui.context import app, current_actor, demo_banner, require_actor

ITEM_KEY = "review_item"
DIALOG_KEY = "review_dialog"  # (which dialog, item id, decision id): reopened on every rerun until done
OPENED_KEY = "review_opened"  # counts openings not made by selecting a row: the table starts afresh
RISKS = [Risk.HIGH, Risk.MEDIUM, Risk.UNSCANNABLE, Risk.LOW]
FILTER_KEYS = {"risks": "f-risk", "source_object": "f-source", "assignee": "f-assignee", "detector": "f-detector",
               "older_than_hours": "f-age"}

actor = require_actor()
st.title("Review queue")
demo_banner()
show_toasts()
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


def _filters() -> dict:
    """The queue's filters as the widgets hold them (callbacks run before the widgets render)."""
    ss = st.session_state
    return {"risks": tuple(ss.get("f-risk") or ()), "source_object": ss.get("f-source") or None,
            "assignee": ss.get("f-assignee") or None, "detector": ss.get("f-detector") or None,
            "older_than_hours": ss.get("f-age") or None}


# -- callbacks: every change goes through a command, once per click ------------------------------
def _is_decider() -> bool:
    return may(current_actor(), Action.ITEM_START_REVIEW)


def _open(item_id: int | None, *, from_table: bool = False) -> None:
    """Show the item; a reviewer who opens an item nobody holds claims it (one click less)."""
    st.session_state[ITEM_KEY] = item_id
    if not from_table:
        st.session_state[OPENED_KEY] = st.session_state.get(OPENED_KEY, 0) + 1
    if item_id is not None and _is_decider() and item_queries.claimable(app().db, item_id=item_id,
                                                                         reviewer=current_actor().id):
        _claim(item_id)


def _open_next(done_item: int | None = None) -> None:
    """The next item this reviewer can act on, among those the filters show."""
    next_id = item_queries.next_in_queue(app().db, reviewer=current_actor().id, exclude=done_item, **_filters())
    _open(next_id)
    if next_id is None:
        toast("Nothing else in the queue that you can act on" + (" with these filters." if any(_filters().values())
                                                                 else "."))


def _selected(table_key: str) -> None:
    rows = st.session_state[table_key].selection.rows
    ids = st.session_state.get("queue-ids", [])
    if rows and rows[0] < len(ids):
        _open(ids[rows[0]], from_table=True)


def _claim(item_id: int) -> None:
    run_action(item_service.start_review, uow=app().uow(), actor=current_actor(), item_id=item_id,
               place="item-actions", done=f"Item {item_id} is yours to review.")


def _return(item_id: int) -> None:
    run_action(item_service.return_to_queue, uow=app().uow(), actor=current_actor(), item_id=item_id,
               place="item-actions", done=f"Item {item_id} went back to the queue.")


def _assign(item_id: int) -> None:
    who = st.session_state.get("assign-to")
    if who:
        run_action(item_service.assign_item, uow=app().uow(), actor=current_actor(), item_id=item_id,
                   assignee=who, place="item-actions", done=f"Item {item_id} assigned to {who}.")


def _open_dialog(kind: str, item_id: int, decision_id: int | None = None) -> None:
    st.session_state[DIALOG_KEY] = (kind, item_id, decision_id)


def _close_dialog() -> None:
    st.session_state.pop(DIALOG_KEY, None)


def _decided(item_id: int) -> None:
    """After a decision: close the dialog, open the next item, rerun the whole page."""
    _close_dialog()
    _open_next(item_id)
    st.rerun()  # a dialog is a fragment: rerun the page to close it and show the next item


# -- dialogs: a refusal shows inside the dialog, which stays open with what was typed ---------------
@st.dialog("Confirm synthetic", on_dismiss=_close_dialog)
def confirm_dialog(item_id: int) -> None:
    st.write(f"Item {item_id} stays quarantined for good and its hashes join the known-synthetic bank.")
    st.selectbox("Reason", list(CONFIRM_REASONS), format_func=CONFIRM_REASONS.get, key="confirm-reason")
    st.text_area("Note (required for 'other')", key="confirm-note")
    if st.button("Confirm synthetic", key="confirm-go", type="primary") and run_action(
            item_service.confirm_synthetic, uow=app().uow(), actor=current_actor(), item_id=item_id,
            reason_code=st.session_state["confirm-reason"], note=st.session_state.get("confirm-note", ""),
            place="confirm", done=f"Item {item_id} confirmed synthetic; its hashes joined the known-synthetic bank."):
        _decided(item_id)
    show_errors("confirm")


@st.dialog("Release", on_dismiss=_close_dialog)
def release_dialog(item_id: int, high_risk: bool) -> None:
    st.write(f"Item {item_id}'s removed links come back to the customer records.")
    if high_risk:
        st.warning("High risk: a second reviewer must approve this release before it takes effect.")
    st.selectbox("Reason", list(RELEASE_REASONS), format_func=RELEASE_REASONS.get, key="release-reason")
    st.text_area("Note (required for 'other')", key="release-note")
    done = (f"Release of item {item_id} requested: it is high risk, so it waits for a second reviewer's approval."
            if high_risk else f"Item {item_id} released; its links are being restored.")
    if st.button("Release", key="release-go", type="primary") and run_action(
            item_service.request_release, uow=app().uow(), actor=current_actor(), item_id=item_id,
            reason_code=st.session_state["release-reason"], note=st.session_state.get("release-note", ""),
            place="release", done=done):
        _decided(item_id)
    show_errors("release")


@st.dialog("Approve release", on_dismiss=_close_dialog)
def approve_dialog(decision_id: int, item_id: int) -> None:
    st.write(f"You approve the release of item {item_id} that another reviewer asked for.")
    if st.button("Approve release", key="approve-go", type="primary") and run_action(
            item_service.approve_release, uow=app().uow(), actor=current_actor(), decision_id=decision_id,
            place="approve", done=f"Release of item {item_id} approved; its links are being restored."):
        _decided(item_id)
    show_errors("approve")


@st.dialog("Escalate to an incident", on_dismiss=_close_dialog)
def escalate_dialog(item_id: int) -> None:
    st.write(f"Declare an incident with item {item_id} linked to it. You become its commander; "
             "the regulatory clocks start now.")
    st.text_input("Title", key="escalate-title")
    st.selectbox("Severity", list(Severity), index=1, key="escalate-severity")
    st.text_area("Summary", key="escalate-summary")
    ss = st.session_state
    if st.button("Declare incident", key="escalate-go", type="primary") and run_action(
            incident_service.declare_incident, uow=app().uow(), actor=current_actor(),
            title=ss.get("escalate-title", ""), severity=ss["escalate-severity"], item_ids=[item_id],
            summary=ss.get("escalate-summary", ""), place="escalate",
            done=lambda incident_id: f"Incident {incident_id} declared with item {item_id}; see Incidents."):
        _decided(item_id)
    show_errors("escalate")


# -- the page ------------------------------------------------------------------------------------
def filters_row() -> None:
    options, _ = _options()
    cols = st.columns([2, 2, 2, 2, 1])
    cols[0].multiselect("Risk", RISKS, key="f-risk", format_func=lambda r: Risk(r).label)
    # "" is "any": a None option would read as no choice at all ("Choose an option").
    cols[1].selectbox("Attached to", ["", *options["source_object"]], key="f-source",
                      format_func=lambda v: fmt.record_type(v) if v else "any record")
    cols[2].selectbox("Held by", ["", item_queries.UNASSIGNED, *options["assignee"]], key="f-assignee",
                      format_func=lambda v: "nobody" if v == item_queries.UNASSIGNED else v or "anyone")
    cols[3].selectbox("Detector found something", ["", *options["detector"]], key="f-detector",
                      format_func=lambda v: v or "any")
    cols[4].number_input("Older than (h)", min_value=0.0, value=0.0, step=1.0, key="f-age")


def _table_key(ids: list[int]) -> str:
    """A new table (no stale selection) whenever its rows change or an item opens another way."""
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:12]
    return f"queue-table-{st.session_state.get(OPENED_KEY, 0)}-{digest}"


def queue_section() -> None:
    queue, stats = _queue(sla_hours, **_filters())
    st.caption(f"{stats['total']} held for review, {stats['breached']} past the {sla_hours:g} h SLA, "
               f"{stats['unassigned']} held by nobody. Oldest first"
               + (f"; showing the first {len(queue)}." if len(queue) < stats["total"] else "."))
    if queue.empty:
        st.info("Nothing waits for review" + (" with these filters." if any(_filters().values()) else "."))
        return
    st.button("Open next item", key="review-next", on_click=_open_next, args=(st.session_state.get(ITEM_KEY),),
              type="primary", help="The oldest item you can act on, among those the filters show, other than the one "
                                   "open: yours first, then one nobody holds.")
    ids = [int(i) for i in queue["id"]]
    st.session_state["queue-ids"] = ids
    key, open_item = _table_key(ids), st.session_state.get(ITEM_KEY)
    queue = queue.assign(note=[" · ".join(n for n, on in (("past SLA", late), ("second approver", pending)) if on)
                               for late, pending in zip(queue["past_sla"], queue["release_pending"])])
    fmt.table(queue, {"id": ("Item", st.column_config.NumberColumn("Item", width=50)), "file_name": "File",
                      "risk": ("Risk", st.column_config.TextColumn("Risk", width=70)),
                      "scanned_at": ("Flagged", fmt.TIME), "assignee": "Held by", "note": "Note"},
              labels={"risk": lambda v: fmt.label(Risk, v)},
              key=key, on_select=lambda: _selected(key), selection_mode="single-row",
              height=min(36 + 35 * len(ids), 456),  # no empty rows under a short queue
              selection_default={"selection": {"rows": [ids.index(open_item)]}} if open_item in ids else None)
    st.caption("Select a row to open the item.")


def pending_section() -> None:
    pending = item_queries.pending_releases(app().db)
    if pending.empty:
        return
    st.markdown(f"**Releases waiting for a second approver ({len(pending)})**")
    fmt.table(pending, {"item_id": "Item", "file_name": "File", "requested_by": "Asked by", "reason_code": "Reason",
                        "requested_at": ("Asked", fmt.TIME)},
              labels={"reason_code": lambda v: RELEASE_REASONS.get(v, v)}, key="pending-table")


def actions(detail: dict) -> None:
    item, me = detail["item"], actor.id
    item_id, state = item["id"], item["state"]
    decider = may(actor, Action.ITEM_START_REVIEW)
    pending = item_queries.pending_releases(app().db, item_id)
    mine = state == ItemState.IN_REVIEW and item["assignee"] == me
    row = st.container(horizontal=True)
    if decider and state == ItemState.QUARANTINED:
        row.button("Claim", key="claim", on_click=_claim, args=(item_id,), type="primary")
    if decider and mine and pending.empty:
        row.button("Confirm synthetic…", key="confirm-open", type="primary", on_click=_open_dialog,
                   args=("confirm", item_id))
        row.button("Release…", key="release-open", on_click=_open_dialog, args=("release", item_id))
        row.button("Return to queue", key="return", on_click=_return, args=(item_id,))
    if may(actor, Action.INCIDENT_DECLARE) and state in HELD:
        row.button("Escalate…", key="escalate-open", on_click=_open_dialog, args=("escalate", item_id))
    if decider and state == ItemState.IN_REVIEW and not mine:
        st.caption(f"Under review by {item['assignee']}: only they decide it.")
    for p in pending.itertuples():
        st.info(f"Release asked for by {p.requested_by} ({RELEASE_REASONS.get(p.reason_code, p.reason_code)}), "
                "waiting for a second approver.")
        if decider and p.requested_by != me:
            st.button("Approve release…", key=f"approve-open-{p.decision_id}", on_click=_open_dialog,
                      args=("approve", item_id, p.decision_id), type="primary")
        elif decider:
            st.caption("You asked for this release: another reviewer approves it.")
    if may(actor, Action.ITEM_ASSIGN) and state in (ItemState.QUARANTINED, ItemState.IN_REVIEW):
        _, reviewers = _options()
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.selectbox("Hand it to", reviewers, key="assign-to")
        right.button("Assign", key="assign", on_click=_assign, args=(item_id,))
    if not decider and not may(actor, Action.ITEM_ASSIGN):
        st.caption("Your role can look at items but not decide them.")
    show_errors("item-actions")
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
    with st.container(border=True):
        item_view.header(detail)
        actions(detail)
        media, scores = st.columns(2)
        with media:
            item_view.media(detail, actor)
        with scores:
            item_view.verdict(detail)
    item_view.comparison(detail)
    item_view.facts(detail)
    item_view.provenance_and_records(detail)
    item_view.history(detail)


filters_row()
queue_column, item_column = st.columns([2, 3], gap="medium")
with queue_column:
    queue_section()
    pending_section()
with item_column:
    if st.session_state.get(ITEM_KEY):
        item_section(st.session_state[ITEM_KEY])
    else:
        st.info("Select an item in the queue, or open the next one.", icon=":material/arrow_back:")
