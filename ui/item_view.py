"""The review item view: what the file is and why it was held, the media beside the detectors'
scores, then its provenance, records and history as readable lists. Everything that came from a
file, Salesforce or a person is shown as plain text or in a table, never as markup."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.adapters.media import MediaView, error_level, explanation, item_media
from core.domain.audit_actions import AuditAction
from core.domain.decisions import CONFIRM_REASONS, RELEASE_REASONS, DecisionKind, DecisionStatus
from core.domain.lifecycle import ItemState, Risk
from core.domain.scan import finding
from ui import format as fmt
from ui.context import app

RISK_COLOURS = {Risk.HIGH: "red", Risk.MEDIUM: "orange", Risk.UNSCANNABLE: "violet", Risk.LOW: "green"}


def header(detail: dict) -> None:
    item = detail["item"]
    st.subheader(f"Item {item['id']}")
    st.text(f"File name: {item['file_name']}")
    risk = Risk(item["risk"]) if item["risk"] else None
    line = st.container(horizontal=True)
    if risk is not None:
        line.badge(f"{risk.label} risk", color=RISK_COLOURS[risk])
    line.badge(fmt.label(ItemState, item["state"]), color="gray")
    if item["assignee"]:
        line.badge(f"Held by {item['assignee']}", icon=":material/person:", color="blue")
    line.caption(f"Flagged {fmt.ago(item['scanned_at'])}", help=fmt.utc(item["scanned_at"]))


def _image(view: MediaView, caption: str) -> None:
    if view.data:
        st.image(view.data, caption=caption, width="stretch")
    else:
        st.info(f"{caption}: {view.note}", icon=":material/hide_image:")


def media(detail: dict, actor) -> None:
    """The file, the detector's explanation (or an error-level aid) and a matched known-synthetic
    file, one tab each, so the media sits beside the scores."""
    item, match = detail["item"], detail["bank_match"]
    original = item_media(app().db, actor=actor, item_id=item["id"])
    overlay = next((explanation(s["explanation_path"]) for s in detail["signals"] if s["explanation_path"]), None)
    overlay_caption = "Detector explanation overlay"
    if overlay is None or overlay.data is None:
        overlay = error_level(original.data) if original.data else MediaView(None, None, original.note)
        overlay_caption = "Error level analysis (computed here; a visual aid, not evidence)"
    names = ["The file", "Explanation"] + (["Matched synthetic file"] if match else [])
    tabs = st.tabs(names)
    with tabs[0]:
        _image(original, "The file as received")
    with tabs[1]:
        _image(overlay, overlay_caption)
    if match:
        with tabs[2]:
            _image(item_media(app().db, actor=actor, item_id=match["item_id"]),
                   f"Item {match['item_id']}, confirmed synthetic ({match['kind']} match, distance {match['distance']})")
            st.text(f"Matched file name: {match['file_name']}")


def verdict(detail: dict) -> None:
    """Why the file was held: the findings in words first, then the detectors' numbers."""
    item = detail["item"]
    st.markdown("**Why it was held**")
    if item["unscannable_reason"]:
        st.text(f"It could not be checked: {item['unscannable_reason']}")
    if detail["findings"]:
        st.text("\n".join(f"• {f['finding']} ({f['detector']})" for f in detail["findings"]))
    elif not item["unscannable_reason"]:
        st.text("No detector found anything: it is held by policy." if detail["signals"] else "No verdict yet.")
    signals = detail["signals"]
    if signals:
        st.markdown("**The detectors' numbers**")
        fmt.table(pd.DataFrame(signals), fmt.SIGNAL_COLUMNS, labels={"label": finding}, key="item-signals")
    if detail["reasons"]:
        with st.expander("The engine's reasons, as recorded"):
            st.text("\n".join(f"- {r}" for r in detail["reasons"]))
    for s in signals:
        if s["evidence"]:
            with st.expander(f"Evidence: {s['name']} {s['version']}"):
                fmt.fields(s["evidence"], key=f"evidence-{s['name']}")


def facts(detail: dict) -> None:
    item = detail["item"]
    st.markdown("**The file**")
    fmt.fields({
        "Risk": fmt.label(Risk, item["risk"]), "State": fmt.label(ItemState, item["state"]),
        "Came from": fmt.words(item["source"]), "Attached to": fmt.record_type(item["source_object"]),
        "Type": fmt.text(item["declared_type"]),
        "Size": fmt.EMPTY if item["size_bytes"] is None else f"{item['size_bytes']:,} bytes",
        "Uploaded by": fmt.text(item["uploaded_by"]), "Received": item["received_at"], "Scanned": item["scanned_at"],
        "Held by": fmt.text(item["assignee"]), "SHA-256": fmt.text(item["sha256"]),
    }, key="item-facts")


def comparison(detail: dict) -> None:
    if detail["bank_match"] is None and detail["other_files"]:
        st.markdown("**The customer's other files**")
        fmt.table(pd.DataFrame(detail["other_files"]), {"id": "Item", "file_name": "File", "state": "State",
                                                         "risk": "Risk"},
                  labels={"state": lambda v: fmt.label(ItemState, v), "risk": lambda v: fmt.label(Risk, v)},
                  key="item-other-files")


def provenance_and_records(detail: dict) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Provenance**")
        if detail["provenance"]:
            fmt.fields({fmt.words(k): v for k, v in detail["provenance"].items()}, key="item-provenance")
            fmt.raw(detail["provenance"], "Provenance as recorded (JSON)")
        else:
            st.caption("No provenance was recorded for this file.")
    with right:
        st.markdown("**Salesforce records it was attached to**")
        records = pd.DataFrame(detail["records"])
        if records.empty:
            st.caption("The file touched no Salesforce record.")
        else:
            fmt.table(records, {"entity_name": "Record", "entity_type": "Type", "entity_id": "Id",
                                "url": ("Open", st.column_config.LinkColumn("Open in the org", display_text="open"))},
                      labels={"entity_type": fmt.record_type}, key="item-records")


def history(detail: dict) -> None:
    st.markdown("**History**")
    events = detail["history"].copy()
    events["details"] = events["after"].map(fmt.details)
    fmt.table(events, {"occurred_at": ("When", fmt.TIME), "actor": "Who", "action": "What", "reason": "Reason",
                       "details": "Details"},
              labels={"action": lambda v: fmt.label(AuditAction, v)}, key="item-history")
    fmt.raw(events[["seq", "occurred_at", "actor", "action", "reason", "after"]].to_dict("records"),
            "History as recorded (JSON)")
    if detail["decisions"]:
        st.markdown("**Decisions**")
        reasons = {**RELEASE_REASONS, **CONFIRM_REASONS}
        fmt.table(pd.DataFrame(detail["decisions"]), {
            "kind": "Decision", "status": "Status", "reason_code": "Reason", "note": "Note", "decided_by": "By",
            "decided_at": ("When", fmt.TIME), "approved_by": "Approved by"},
            labels={"kind": lambda v: fmt.label(DecisionKind, v), "status": lambda v: fmt.label(DecisionStatus, v),
                    "reason_code": lambda v: reasons.get(v, v)}, key="item-decisions")
