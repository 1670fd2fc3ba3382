"""Review queue in AppTest: filter, claim, assign, confirm, release with four eyes, escalate,
and what each role may not do."""
import pytest

from core.commands import items
from core.commands.users import demo_email
from core.domain.roles import Actor, Role
from core.queries import items as item_queries
from tests.app.seed import flagged_item
from tests.app.test_shell import signed_in


def open_item(at, item_id):
    at.switch_page("pages/review.py").run()
    at.session_state["review_item"] = item_id
    return at.run()


def state_of(app, item_id):
    return item_queries.item_detail(app.db, actor=Actor.system(), item_id=item_id)["item"]["state"]


def keys(at):
    return {b.key for b in at.button}


def test_queue_lists_held_items_with_sla_age_and_filters_by_risk_and_source(ui_app):
    flagged_item(ui_app, 1, risk="high", source_object="Account")
    flagged_item(ui_app, 2, risk="medium", source_object="KYC_Check__c")
    at = signed_in(Role.REVIEWER)
    at.switch_page("pages/review.py").run()
    assert not at.exception
    queue = at.dataframe[0].value
    assert set(queue["file_name"]) == {"id_1.jpg", "id_2.jpg"} and set(queue["note"]) == {""}
    at.multiselect(key="f-risk").set_value(["medium"]).run()
    assert list(at.dataframe[0].value["file_name"]) == ["id_2.jpg"]
    at.multiselect(key="f-risk").set_value([]).run()
    at.selectbox(key="f-source").set_value("Account").run()
    assert list(at.dataframe[0].value["file_name"]) == ["id_1.jpg"]
    at.selectbox(key="f-source").set_value("").run()
    at.selectbox(key="f-detector").set_value("generator_metadata").run()
    assert list(at.dataframe[0].value["file_name"]) == ["id_1.jpg"]  # only the high one's metadata fired


def test_reviewer_claims_and_confirms_then_moves_to_the_next_item(ui_app):
    first, second = flagged_item(ui_app, 1), flagged_item(ui_app, 2, risk="medium")
    at = open_item(signed_in(Role.REVIEWER), first)
    assert "confirm-open" not in keys(at)  # claim first
    at.button(key="claim").click().run()
    assert state_of(ui_app, first) == "in_review"
    at.button(key="confirm-open").click().run()
    at.selectbox(key="confirm-reason").set_value("generator_traces")
    at.button(key="confirm-go").click().run()
    assert not at.exception
    assert state_of(ui_app, first) == "confirmed_synthetic"
    assert at.session_state["review_item"] == second
    assert state_of(ui_app, second) == "in_review"  # the next item opened claimed: nobody held it
    assert "confirmed synthetic" in " ".join(t.value for t in at.toast)


def test_high_risk_release_waits_for_a_second_reviewer_who_is_not_the_requester(ui_app):
    item_id = flagged_item(ui_app, 1, risk="high")
    at = open_item(signed_in(Role.REVIEWER), item_id)
    at.button(key="claim").click().run()
    at.button(key="release-open").click().run()
    at.selectbox(key="release-reason").set_value("false_positive")
    at.text_area(key="release-note").input("customer sent the original")
    at.button(key="release-go").click().run()
    assert state_of(ui_app, item_id) == "in_review"
    at = open_item(at, item_id)
    assert not any(k.startswith("approve-open") for k in keys(at))  # nobody approves their own release
    assert "You asked for this release" in " ".join(c.value for c in at.caption)
    lead = open_item(signed_in(Role.COMPLIANCE_LEAD), item_id)
    assert "**Releases waiting for a second approver (1)**" in [m.value for m in lead.markdown]
    approve = next(k for k in keys(lead) if k.startswith("approve-open"))
    lead.button(key=approve).click().run()
    lead.button(key="approve-go").click().run()
    assert not lead.exception
    assert state_of(ui_app, item_id) == "released"


def test_medium_risk_release_takes_effect_at_once(ui_app):
    item_id = flagged_item(ui_app, 1, risk="medium")
    at = open_item(signed_in(Role.REVIEWER), item_id)
    at.button(key="claim").click().run()
    at.button(key="release-open").click().run()
    at.button(key="release-go").click().run()
    assert state_of(ui_app, item_id) == "released"


def test_release_with_reason_other_and_no_note_is_refused_with_a_message(ui_app):
    item_id = flagged_item(ui_app, 1, risk="medium")
    at = open_item(signed_in(Role.REVIEWER), item_id)
    at.button(key="claim").click().run()
    at.button(key="release-open").click().run()
    at.selectbox(key="release-reason").set_value("other")
    at.button(key="release-go").click().run()
    assert state_of(ui_app, item_id) == "in_review"
    assert "needs an explanation" in at.error[0].value


def test_return_to_queue(ui_app):
    item_id = flagged_item(ui_app, 1)
    at = open_item(signed_in(Role.REVIEWER), item_id)
    at.button(key="claim").click().run()
    at.button(key="return").click().run()
    assert state_of(ui_app, item_id) == "quarantined"


def test_lead_assigns_an_item_to_a_reviewer_and_the_reviewer_cannot_assign(ui_app):
    item_id = flagged_item(ui_app, 1)
    lead = open_item(signed_in(Role.COMPLIANCE_LEAD), item_id)
    lead.selectbox(key="assign-to").set_value(demo_email(Role.REVIEWER))
    lead.button(key="assign").click().run()
    assert not lead.exception
    detail = item_queries.item_detail(ui_app.db, actor=Actor.system(), item_id=item_id)
    assert detail["item"]["assignee"] == demo_email(Role.REVIEWER)
    assert "item.assigned" in set(detail["history"]["action"])
    reviewer = open_item(signed_in(Role.REVIEWER), item_id)
    assert "assign" not in keys(reviewer)


def test_escalate_declares_an_incident_with_the_item(ui_app):
    from core.queries import incidents as incident_queries

    item_id = flagged_item(ui_app, 1)
    at = open_item(signed_in(Role.RESPONDER), item_id)
    assert not {"claim", "confirm-open", "release-open"} & keys(at)  # responders do not decide
    at.button(key="escalate-open").click().run()
    at.text_input(key="escalate-title").input("Forged IDs on onboarding")
    at.button(key="escalate-go").click().run()
    assert not at.exception, at.exception
    incidents = incident_queries.list_incidents(ui_app.db)
    assert list(incidents["title"]) == ["Forged IDs on onboarding"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_roles_without_decisions_see_no_action_buttons(ui_app, role):
    item_id = flagged_item(ui_app, 1)
    at = open_item(signed_in(role), item_id)
    assert not at.exception
    assert not {"claim", "confirm-open", "release-open", "return", "escalate-open"} & keys(at)
    if role is Role.AUDITOR:
        assert "assign" not in keys(at)


def test_item_view_shows_media_overlay_detectors_records_and_history(ui_app):
    item_id = flagged_item(ui_app, 1, records=[{"link_id": "06A000000000000001", "entity_id": "001000000000000001",
                                                "entity_type": "Account", "entity_name": "Ada Customer"}])
    at = open_item(signed_in(Role.REVIEWER), item_id)
    assert len(at.get("image")) >= 2  # the file and its error-level view side by side
    frames = [df.value for df in at.dataframe]
    signals = next(f for f in frames if "version" in f and "label" in f)
    assert {"hash", "c2pa", "generator_metadata", "artifact_cnn"} <= set(signals["name"])
    records = next(f for f in frames if "entity_id" in f)
    assert records["url"][0] == "https://demo-org.example.com/001000000000000001"
    history = next(f for f in frames if "occurred_at" in f and "action" in f)
    assert {"Item registered", "Item scanned"} <= set(history["action"])  # in words


def test_item_view_shows_the_matched_known_synthetic_file(ui_app):
    from core.commands import hashbank

    original = flagged_item(ui_app, 1)
    items.start_review(ui_app.uow(), actor=Actor(demo_email(Role.REVIEWER), Role.REVIEWER), item_id=original)
    items.confirm_synthetic(ui_app.uow(), actor=Actor(demo_email(Role.REVIEWER), Role.REVIEWER),
                            item_id=original, reason_code="generator_traces")
    with ui_app.db.reader() as s:
        from sqlalchemy import select

        from core.models import HashBankEntry
        entry = s.execute(select(HashBankEntry.id).where(HashBankEntry.item_id == original)).scalar_one()
    assert hashbank  # the confirm service banked it
    near = flagged_item(ui_app, 2, matches=[{"entry_id": entry, "bank": "known_synthetic", "kind": "perceptual",
                                              "distance": 3, "source": "confirmed", "note": ""}])
    at = open_item(signed_in(Role.REVIEWER), near)
    texts = " ".join(t.value for t in at.text)
    assert "Matched file name: id_1.jpg" in texts
    assert len(at.get("image")) >= 3
