"""The Live page shows what the org refuses, with the permission it names, as plain text."""
import streamlit as st

from core.adapters import worker_state
from core.domain.roles import Role
from core.models import OutboxEntry
from tests.app.test_shell import signed_in

LACKS_QAF = ("the integration user lacks Query All Files: a query lists only files the integration user owns "
             "(assign the permission set Response Desk File Access)")
REFUSED = "HTTP 400: INVALID_FIELD: No such column 'RD_Risk__c' on sobject of type ContentVersion"


def test_live_names_what_the_integration_user_lacks_and_why_effects_died(ui_app):
    at = signed_in(Role.RESPONDER)
    assert "Salesforce ingest needs attention" not in " ".join(e.value for e in at.error)
    worker_state.save_watermark(ui_app.db, "salesforce", None, None, LACKS_QAF)
    with ui_app.db.writer() as s:
        s.add(OutboxEntry(kind="sf.writeback", payload={}, idempotency_key="dead-1", status="dead", attempts=1,
                          last_error=REFUSED))
        s.commit()
    st.cache_data.clear()  # the page caches its snapshot for a few seconds
    at = signed_in(Role.RESPONDER)
    assert "Salesforce ingest needs attention" in " ".join(e.value for e in at.error)
    assert "1 effect(s) on Salesforce or email failed for good" in " ".join(w.value for w in at.warning)
    assert {LACKS_QAF, REFUSED} <= {t.value for t in at.text}  # as the org said it, not as markdown
