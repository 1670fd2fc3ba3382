"""The review item view: media beside its explanation, detectors, provenance, records, history.
Everything that came from a file, Salesforce or a person is shown as plain text or in a table."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.adapters.media import MediaView, error_level, explanation, item_media
from ui.context import app


def _image(view: MediaView, caption: str) -> None:
    if view.data:
        st.image(view.data, caption=caption, width="stretch")
    else:
        st.info(f"{caption}: {view.note}", icon=None)


def media_panels(detail: dict, actor) -> None:
    item = detail["item"]
    original = item_media(app().db, actor=actor, item_id=item["id"])
    overlay = next((explanation(s["explanation_path"]) for s in detail["signals"] if s["explanation_path"]), None)
    if overlay is None or overlay.data is None:
        overlay = error_level(original.data) if original.data else MediaView(None, None, original.note)
        overlay_caption = "Error level analysis (computed here; a visual aid, not evidence)"
    else:
        overlay_caption = "Detector explanation overlay"
    cols = st.columns(3)
    with cols[0]:
        _image(original, "The file")
    with cols[1]:
        _image(overlay, overlay_caption)
    with cols[2]:
        match = detail["bank_match"]
        if match:
            _image(item_media(app().db, actor=actor, item_id=match["item_id"]),
                   f"Matched known-synthetic file (item {match['item_id']}, {match['kind']}, distance {match['distance']})")
            st.text(f"Matched file name: {match['file_name']}")
        elif detail["other_files"]:
            st.caption("The customer's other files")
            st.dataframe(pd.DataFrame(detail["other_files"]), hide_index=True, width="stretch")
        else:
            st.caption("No matched known-synthetic file and no other file on the same records.")


def facts(detail: dict) -> None:
    item = detail["item"]
    st.text(f"File name: {item['file_name']}")
    st.dataframe(pd.DataFrame([{k: item[k] for k in ("state", "risk", "source", "source_object", "declared_type",
                                                     "size_bytes", "assignee", "uploaded_by", "received_at",
                                                     "scanned_at")}]), hide_index=True, width="stretch")
    if item["unscannable_reason"]:
        st.text(f"Unscannable: {item['unscannable_reason']}")
    if detail["reasons"]:
        st.caption("Why it was flagged")
        st.text("\n".join(f"- {r}" for r in detail["reasons"]))


def detectors(detail: dict) -> None:
    st.subheader("Detectors")
    signals = detail["signals"]
    if not signals:
        st.info("No verdict yet.")
        return
    st.dataframe(pd.DataFrame([{k: s[k] for k in ("name", "version", "score", "label")} for s in signals]),
                 hide_index=True, width="stretch")
    for s in signals:
        with st.expander(f"Evidence: {s['name']} {s['version']}"):
            st.json(s["evidence"], expanded=1)


def provenance_and_records(detail: dict) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Provenance")
        st.json(detail["provenance"] or {}, expanded=1)
        st.text(f"SHA-256: {detail['item']['sha256'] or 'unknown'}")
    with right:
        st.subheader("Salesforce records")
        records = pd.DataFrame(detail["records"])
        if records.empty:
            st.caption("The file touched no Salesforce record.")
        else:
            st.dataframe(records, hide_index=True, width="stretch", column_config={
                "url": st.column_config.LinkColumn("Open in the org", display_text="open")})


def history(detail: dict) -> None:
    st.subheader("History")
    st.dataframe(detail["history"], hide_index=True, width="stretch")
    if detail["decisions"]:
        st.caption("Decisions")
        st.dataframe(pd.DataFrame(detail["decisions"]), hide_index=True, width="stretch")
