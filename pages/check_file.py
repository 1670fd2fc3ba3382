"""Check a file: upload it, see the verdict and evidence; optionally keep it as an item."""
import pandas as pd
import streamlit as st

from core.domain.errors import DomainError
from core.domain.lifecycle import Risk
from core.domain.roles import Action, may
from core.domain.scan import finding
from core.loops import uploads
from core.queries import intake
from core.queries.items import findings
from ui import format as fmt
from ui.actions import run_action, show_errors, show_toasts
from ui.context import app, current_actor, demo_banner, require_actor

actor = require_actor()
st.title("Check a file")
demo_banner()
show_toasts()
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
               file_name=upload.name, declared_type=upload.type, place="register",
               done=lambda result: f"Registered as item {result[0]}; it is now {result[1].label.lower()}.")


def verdict(report: dict) -> None:
    risk = Risk(report["risk"])
    st.metric("Risk", risk.label)
    st.text(f"File name: {report['path']}")
    if report.get("unscannable_reason"):
        st.text(f"It could not be checked: {report['unscannable_reason']}")
    st.markdown("**What the checks found**")
    st.text("\n".join(f"• {f['finding']} ({f['detector']})" for f in findings(report["signals"]))
            or "Nothing: no check found a sign "
            "of generation (which is not proof that the file is genuine).")
    st.markdown("**The detectors' numbers**")
    fmt.table(pd.DataFrame(report["signals"], columns=["name", "version", "score", "label"]), fmt.SIGNAL_COLUMNS,
              labels={"label": finding}, key="check-signals")
    with st.expander("The engine's reasons, as recorded"):
        st.text("\n".join(f"- {r}" for r in report["reasons"]) or fmt.EMPTY)
    st.text(f"SHA-256: {fmt.text(report['sha256'])}")
    for signal in report["signals"]:
        if signal["evidence"]:
            with st.expander(f"Evidence: {signal['name']}"):
                fmt.fields(signal["evidence"], key=f"check-evidence-{signal['name']}")


limit_mb = app().scan_policy.max_file_bytes / 2**20
st.caption(f"Accepted: {', '.join(k.removeprefix('a ').removeprefix('an ') for k in intake.accepted_kinds())}; "
           f"at most {limit_mb:g} MB.")
upload = st.file_uploader("File to check", key="check-upload", type=intake.accepted_extensions())
if upload is not None:
    try:  # a refused file shows why, and no earlier file's verdict stays on screen
        report = _check(upload.getvalue(), upload.name, upload.type)
    except (DomainError, ValueError) as exc:
        st.error(f"{upload.name} was not checked: {exc}", icon=":material/error:")
        st.stop()
    verdict(report)
    if may(actor, Action.ITEM_REGISTER):
        st.button("Register as an item and scan it", key="check-register", on_click=_register, type="primary")
        show_errors("register")
    else:
        st.caption("Your role can check files but not register them as items.")
