"""Live, Trends, Audit, Settings and Check a file in AppTest: figures from the database, filters,
exports, admin changes through services, and what each role may not do."""
from datetime import timedelta

import pytest
import streamlit as st

from core.adapters import worker_state as status
from core.clock import utcnow
from core.commands import items
from core.commands.users import demo_email
from core.domain.roles import Actor, Role
from core.domain.thresholds import Thresholds
from core.queries import admin as admin_queries
from core.verification import corpus
from tests.app.seed import flagged_item
from tests.app.test_shell import signed_in

REVIEWER = Actor(demo_email(Role.REVIEWER), Role.REVIEWER)


def texts(at) -> str:
    return " ".join(e.value for e in [*at.error, *at.warning, *at.info, *at.success])


# -- Live ----------------------------------------------------------------------------------------
def test_live_shows_every_figure_the_chart_and_the_high_risk_feed(ui_app):
    flagged_item(ui_app, 1, risk="high")
    at = signed_in(Role.RESPONDER)
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"Verified, last 15 min", "Verified, last hour", "Verified, last 24 h", "Flagged, last 24 h",
            "Quarantined now", "Awaiting review", "Oldest unverified", "Outbox backlog", "Dead letters",
            "API budget left", "Worker heartbeat"} <= labels
    assert at.get("plotly_chart")
    feed = at.dataframe[0].value
    assert list(feed["file_name"]) == ["id_1.jpg"] and feed["open"][0] == "/review?item=1"


def test_live_warns_when_the_worker_is_down_the_backlog_grows_and_the_api_budget_runs_low(ui_app):
    at = signed_in(Role.RESPONDER)
    assert "no worker has reported a heartbeat" in texts(at)
    status.publish(ui_app.db, "worker:w1", {})
    status.publish(ui_app.db, "salesforce_api", {"used": 95_500, "limit": 100_000})
    items.register_item(ui_app.uow(), actor=Actor.system(), source="api", external_id="waiting", file_name="w.jpg")
    from sqlalchemy import update

    from core.models import MediaItem
    with ui_app.db.writer() as s:  # a file that has waited an hour
        s.execute(update(MediaItem).values(received_at=utcnow() - timedelta(hours=1)))
        s.commit()
    st.cache_data.clear()  # the page caches its snapshot for a few seconds
    at = signed_in(Role.RESPONDER)
    shown = texts(at)
    assert "Worker down" not in shown
    assert "Backlog growing" in shown and "API budget low: 4,500 of 100,000" in shown


def test_live_shows_active_incidents_with_their_clocks(ui_app):
    from core.commands import incidents

    incidents.declare_incident(ui_app.uow(), actor=Actor(demo_email(Role.RESPONDER), Role.RESPONDER),
                               title="Synthetic IDs", severity="SEV1")
    at = signed_in(Role.RESPONDER)
    assert not at.exception
    assert any("Synthetic IDs" in t.value for t in at.text)
    clock_tables = [df.value for df in at.dataframe if "left" in df.value]
    assert clock_tables and len(clock_tables[0]) >= 1


# -- Trends --------------------------------------------------------------------------------------
def test_trends_aggregates_flags_decisions_precision_and_exports_csv(ui_app):
    a, b = flagged_item(ui_app, 1, risk="high"), flagged_item(ui_app, 2, risk="medium")
    for item_id in (a, b):
        items.start_review(ui_app.uow(), actor=REVIEWER, item_id=item_id)
    items.confirm_synthetic(ui_app.uow(), actor=REVIEWER, item_id=a, reason_code="generator_traces")
    items.request_release(ui_app.uow(), actor=REVIEWER, item_id=b, reason_code="false_positive")
    at = signed_in(Role.COMPLIANCE_LEAD)
    at.switch_page("pages/trends.py").run()
    assert not at.exception, at.exception
    frames = {tuple(df.value.columns): df.value for df in at.dataframe}
    precision = frames[("detector", "confirmed", "released", "precision")].set_index("detector")
    assert precision.loc["artifact_cnn", "precision"] == 0.5  # fired on both, one confirmed
    assert precision.loc["generator_metadata", "precision"] == 1.0
    speed = frames[("kind", "n", "p50", "p90", "p95", "p99", "max")]
    assert set(speed["kind"]) == {"Confirmed synthetic", "Release"}  # in words
    at.radio(key="t-grain").set_value("week").run()
    at.radio(key="t-by").set_value("detector").run()
    assert not at.exception
    assert at.get("download_button")


# -- Audit ---------------------------------------------------------------------------------------
def test_audit_filters_by_actor_action_and_object(ui_app):
    item_id = flagged_item(ui_app, 1)
    at = signed_in(Role.AUDITOR)
    at.switch_page("pages/audit.py").run()
    at.selectbox(key="a-action").set_value("item.scanned").run()
    assert set(at.dataframe[0].value["action"]) == {"Item scanned"}  # in words
    at.selectbox(key="a-action").set_value(None)
    at.selectbox(key="a-actor").set_value("system:demo").run()
    assert set(at.dataframe[0].value["actor"]) == {"system:demo"}
    at.selectbox(key="a-actor").set_value(None)
    at.selectbox(key="a-object-type").set_value("media_item")
    at.text_input(key="a-object-id").input(str(item_id)).run()
    events = at.dataframe[0].value
    assert set(events["object_id"]) == {str(item_id)} and len(events) >= 3


def test_audit_exports_csv_and_jsonl_for_auditors_but_not_for_reviewers(ui_app):
    flagged_item(ui_app, 1)
    at = signed_in(Role.AUDITOR)
    at.switch_page("pages/audit.py").run()
    at.button(key="a-csv").click().run()
    at.button(key="a-jsonl").click().run()
    assert not at.exception
    reviewer = signed_in(Role.REVIEWER)
    reviewer.switch_page("pages/audit.py").run()
    assert not {"a-csv", "a-jsonl"} & {b.key for b in reviewer.button}


# -- Settings ------------------------------------------------------------------------------------
def test_admin_changes_thresholds_through_the_service_with_an_audit_event(ui_app):
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/settings.py").run()
    at.number_input(key="s-sla").set_value(2.0)
    at.number_input(key="s-backlog").set_value(30.0)
    at.text_input(key="s-reason").input("tighter SLA after audit finding")
    at.button[[b.label for b in at.button].index("Save thresholds")].click().run()
    assert not at.exception
    saved = admin_queries.thresholds(ui_app.db, ui_app.settings)
    assert saved.review_sla_hours == 2.0 and saved.backlog_limit_minutes == 30.0
    from core.queries import audit

    events = audit.search_events(ui_app.db, actor=Actor.console("auditor", Role.AUDITOR), action="settings.changed")
    assert list(events["reason"]) == ["tighter SLA after audit finding"]


def test_thresholds_refuse_to_stop_quarantining_high_risk(ui_app):

    with pytest.raises(ValueError):
        Thresholds(quarantine_risks=("medium",))


def test_admin_adds_edits_and_deactivates_a_contact(ui_app):
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/settings.py").run()
    at.text_input(key="c-name").input("Dana Protection")
    at.text_input(key="c-email").input("dpo@firm.example")
    at.selectbox(key="c-role").set_value("dpo")
    at.button[[b.label for b in at.button].index("Add contact")].click().run()
    contacts = admin_queries.list_contacts(ui_app.db)
    assert list(contacts["email"]) == ["dpo@firm.example"]
    at.checkbox(key="e-active").uncheck()
    at.text_input(key="e-name").input("Dana P.")
    at.button[[b.label for b in at.button].index("Save contact")].click().run()
    assert not at.exception
    row = admin_queries.list_contacts(ui_app.db).iloc[0]
    assert row["name"] == "Dana P." and not row["active"]


def test_admin_imports_and_exports_hash_banks_and_sees_model_cards(ui_app):
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/settings.py").run()
    csv_text = "bank,sha256,phash,source,note\nknown_synthetic," + "a" * 64 + ",,vendor feed,\n"
    at.file_uploader(key="s-bank-csv").set_value(("bank.csv", csv_text.encode(), "text/csv"))
    at.button(key="s-bank-import").click().run()
    assert not at.exception, at.exception
    sizes = admin_queries.hashbank_sizes(ui_app.db)
    assert sizes.set_index("bank").loc["known_synthetic", "entries"] == 1
    at.button(key="s-bank-export").click().run()
    assert not at.exception
    assert any(e.label.startswith("artifact_cnn") for e in at.expander)


# -- Check a file --------------------------------------------------------------------------------
def test_check_a_file_shows_the_verdict_and_registers_it_as_an_item(ui_app):
    at = signed_in(Role.RESPONDER)
    at.switch_page("pages/check_file.py").run()
    photo = corpus.genuine_photo(3, size=(160, 120))
    at.file_uploader(key="check-upload").set_value(("upload.jpg", photo, "image/jpeg"))
    at.run()
    assert not at.exception, at.exception
    assert at.metric[0].label == "Risk" and at.metric[0].value == "Low"
    at.button(key="check-register").click().run()
    assert not at.exception
    assert "Registered as item" in at.toast[0].value
    from core.queries import items as item_queries
    assert item_queries.state_counts(ui_app.db)["clean"] == 1


def test_auditors_check_files_but_cannot_register_them(ui_app):
    at = signed_in(Role.AUDITOR)
    at.switch_page("pages/check_file.py").run()
    at.file_uploader(key="check-upload").set_value(("x.jpg", corpus.genuine_photo(4, size=(64, 64)), "image/jpeg"))
    at.run()
    assert at.metric and "check-register" not in {b.key for b in at.button}


def test_admins_see_dead_letters_and_send_them_again(ui_app):
    from sqlalchemy import select

    from core.models import AuditEvent, OutboxEntry

    with ui_app.db.writer() as s:
        s.add(OutboxEntry(kind="sf.writeback", payload={}, idempotency_key="dead-1", status="dead", attempts=8,
                          last_error="SalesforceMalformedRequest: INVALID_FIELD RD_Risk__c"))
        s.commit()
    from streamlit.testing.v1 import AppTest

    from core.commands.users import demo_email
    from core.domain.roles import Role
    from core.settings import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    at.button(key=f"signin-{demo_email(Role.ADMIN)}").click().run()
    at.switch_page("pages/settings.py").run()
    letters = next(d.value for d in at.dataframe if "last_error" in d.value.columns)
    assert "INVALID_FIELD" in letters["last_error"].iloc[0]
    at.button(key="dl-requeue").click().run()
    assert not at.exception
    with ui_app.db.reader() as s:
        assert s.execute(select(OutboxEntry.status)).scalar_one() == "pending"
        assert s.execute(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)).scalar() == "outbox.requeued"
