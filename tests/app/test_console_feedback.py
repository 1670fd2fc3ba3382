"""Feedback where the eye is and forms that keep their place, in AppTest: a refusal shows inside the
dialog or form that asked, with what was typed still there; success is a toast; Settings keeps its tab
after an action and says so when a save changes nothing; "Open next item" honours the filters; Check a
file says what it takes and shows no earlier verdict beside a refused file; tables speak in words."""
from core.commands.users import demo_email
from core.domain.roles import Role
from core.queries import admin as admin_queries
from core.queries import intake
from core.queries import items as item_queries
from core.verification import corpus
from tests.app.seed import flagged_item
from tests.app.test_review_page import keys, open_item, state_of
from tests.app.test_shell import signed_in


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_a_refused_release_shows_the_error_inside_its_dialog_and_keeps_the_input(ui_app):
    item_id = flagged_item(ui_app, 1, risk="medium")
    at = open_item(signed_in(Role.REVIEWER), item_id)
    at.button(key="claim").click().run()
    at.button(key="release-open").click().run()
    at.selectbox(key="release-reason").set_value("other")
    at.text_area(key="release-note").input("   ")
    at.button(key="release-go").click().run()
    assert state_of(ui_app, item_id) == "in_review"
    dialog = at.get("dialog")[0]
    assert "needs an explanation" in texts(dialog.error)  # inside the dialog, which is still open
    assert at.selectbox(key="release-reason").value == "other" and "release-go" in keys(at)
    assert not at.toast
    at.text_area(key="release-note").input("the customer sent the original bill").run()
    at.button(key="release-go").click().run()
    assert state_of(ui_app, item_id) == "released" and "released" in texts(at.toast)
    assert not at.get("dialog")


def test_a_refused_contact_keeps_what_was_typed_and_settings_keeps_its_tab(ui_app):
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/settings.py").run()
    at.session_state["settings-tab"] = "Contacts"  # the admin opens the Contacts tab
    at.run()
    at.text_input(key="c-name").input("Breach desk")
    at.text_input(key="c-email").input("not an address")
    at.button(key="FormSubmitter:add-contact-Add contact").click().run()
    assert not at.exception, at.exception
    assert "Not an email address" in texts(at.error)
    assert at.text_input(key="c-name").value == "Breach desk"  # kept for the correction
    assert at.session_state["settings-tab"] == "Contacts"
    at.text_input(key="c-email").input("breach@dpa.example")
    at.button(key="FormSubmitter:add-contact-Add contact").click().run()
    assert "Contact added." in texts(at.toast) and at.session_state["settings-tab"] == "Contacts"
    assert at.text_input(key="c-name").value == ""  # cleared once added
    assert "breach@dpa.example" in set(admin_queries.list_contacts(ui_app.db)["email"])


def test_saving_thresholds_unchanged_says_nothing_changed(ui_app):
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/settings.py").run()
    at.button(key="FormSubmitter:thresholds-Save thresholds").click().run()
    assert "Nothing changed" in texts(at.toast)
    assert admin_queries.setting_changed(ui_app.db) is None  # and nothing was recorded


def test_open_next_item_honours_the_filters_and_claims_what_it_opens(ui_app):
    high, medium = flagged_item(ui_app, 1, risk="high"), flagged_item(ui_app, 2, risk="medium")
    at = signed_in(Role.REVIEWER)
    at.switch_page("pages/review.py").run()
    at.multiselect(key="f-risk").set_value(["medium"]).run()
    at.button(key="review-next").click().run()
    assert not at.exception, at.exception
    assert at.session_state["review_item"] == medium and state_of(ui_app, medium) == "in_review"
    assert state_of(ui_app, high) == "quarantined"
    assert f"Item {medium} is yours to review." in texts(at.toast)


def test_a_read_only_role_opens_an_item_without_claiming_it(ui_app):
    item_id = flagged_item(ui_app, 1)
    at = signed_in(Role.AUDITOR)
    at.switch_page("pages/review.py").run()
    at.button(key="review-next").click().run()
    assert at.session_state["review_item"] == item_id and state_of(ui_app, item_id) == "quarantined"


def test_open_next_skips_a_release_waiting_for_a_second_approver(ui_app):
    from core.commands import items
    from core.domain.roles import Actor

    reviewer = Actor(demo_email(Role.REVIEWER), Role.REVIEWER)
    waiting, free = flagged_item(ui_app, 1, risk="high"), flagged_item(ui_app, 2, risk="high")
    items.start_review(ui_app.uow(), actor=reviewer, item_id=waiting)
    items.request_release(ui_app.uow(), actor=reviewer, item_id=waiting, reason_code="false_positive")
    assert item_queries.next_in_queue(ui_app.db, reviewer=reviewer.id) == free


def test_queue_and_item_speak_in_words(ui_app):
    item_id = flagged_item(ui_app, 1, risk="unscannable")
    at = open_item(signed_in(Role.REVIEWER), item_id)
    queue = next(df.value for df in at.dataframe if "past_sla" in df.value)
    assert list(queue["risk"]) == ["Unscannable"] and list(queue["assignee"]) == [None]
    signals = next(df.value for df in at.dataframe if "score" in df.value and "label" in df.value)
    assert "A detection model judged it genuine" in set(signals["label"])
    assert "It could not be checked: broken" in texts(at.text)


def test_check_a_file_names_the_accepted_types_and_a_refused_file_shows_no_earlier_verdict(ui_app):
    at = signed_in(Role.RESPONDER)
    at.switch_page("pages/check_file.py").run()
    assert "a JPEG image" in intake.accepted_kinds() and "jpg" in intake.accepted_extensions()
    assert "Accepted: JPEG image, PNG image" in texts(at.caption)
    at.file_uploader(key="check-upload").set_value(("first.jpg", corpus.genuine_photo(3, size=(64, 48)), "image/jpeg"))
    at.run()
    assert [m.value for m in at.metric] == ["Low"]
    ui_app.scan_policy.max_file_bytes = 2_000  # the next file is over the engine's limit
    at.file_uploader(key="check-upload").set_value(("second.jpg", corpus.genuine_photo(4, size=(320, 240)),
                                                     "image/jpeg"))
    at.run()
    assert not at.exception, at.exception
    assert "second.jpg was not checked" in texts(at.error)
    assert not at.metric and "File name: first.jpg" not in texts(at.text)


def test_open_next_item_moves_on_from_the_item_already_open(ui_app):
    first, second = flagged_item(ui_app, 1), flagged_item(ui_app, 2)
    at = signed_in(Role.REVIEWER)
    at.switch_page("pages/review.py").run()
    at.button(key="review-next").click().run()
    assert at.session_state["review_item"] == first and state_of(ui_app, first) == "in_review"
    at.button(key="review-next").click().run()  # the reviewer's own claimed item is not offered again
    assert at.session_state["review_item"] == second
