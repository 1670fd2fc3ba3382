"""Check a file: upload it, see the verdict and evidence; optionally keep it as an item."""
import pandas as pd
import streamlit as st

from core.domain.roles import Action, may
from core.loops import uploads
from ui.actions import run_action, show_flash
from ui.context import app, current_actor, demo_banner, require_actor

actor = require_actor()
st.title("Check a file")
demo_banner()
show_flash()
st.caption("The file is checked by the same sandboxed engine and hash banks as the worker. "
           "Checking stores nothing; registering keeps the file as an item and records it in the audit trail.")


@st.cache_data(ttl=600, max_entries=16, show_spinner="Checking the file...")
def _check(data: bytes, file_name: str, declared_type: str | None) -> dict:
    return uploads.check_file(app(), actor=current_actor(), data=data, file_name=file_name, declared_type=declared_type)


def _register() -> None:
    upload = st.session_state.get("check-upload")
    if upload is None:
        return
    run_action(uploads.register_upload, app=app(), actor=current_actor(), data=upload.getvalue(),
               file_name=upload.name, declared_type=upload.type,
               done=lambda result: f"Registered as item {result[0]}; it is now {result[1]}.")


upload = st.file_uploader("File to check", key="check-upload")
if upload is not None:
    report = _check(upload.getvalue(), upload.name, upload.type)
    st.text(f"File name: {report['path']}")
    st.metric("Risk", report["risk"])
    if report.get("unscannable_reason"):
        st.text(f"Unscannable: {report['unscannable_reason']}")
    st.caption("Reasons")
    st.text("\n".join(f"- {r}" for r in report["reasons"]) or "none")
    st.text(f"SHA-256: {report['sha256']}")
    st.dataframe(pd.DataFrame([{k: s[k] for k in ("name", "version", "score", "label")} for s in report["signals"]]),
                 hide_index=True, width="stretch")
    for signal in report["signals"]:
        with st.expander(f"Evidence: {signal['name']}"):
            st.json(signal["evidence"], expanded=1)
    if may(actor, Action.ITEM_REGISTER):
        st.button("Register as an item and scan it", key="check-register", on_click=_register, type="primary")
    else:
        st.caption("Your role can check files but not register them as items.")
