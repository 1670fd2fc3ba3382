"""AppTest: the Incidents and Communications pages, driven as people use them."""
import pytest
from streamlit.testing.v1 import AppTest

from core.commands import communications as comms
from core.commands.users import demo_email
from core.domain.roles import Role
from core.loops.mail_relay import mail_relay_for
from core.queries import incidents as q
from core.settings import PROJECT_ROOT
from tests.integration.test_incidents_helpers import flagged_items
from tests.integration.test_smtp import smtp_server  # noqa: F401 (fixture)


@pytest.fixture
def ui_smtp(smtp_server, monkeypatch, request):
    for key, value in smtp_server.env().items():
        monkeypatch.setenv(key, value)
    app = request.getfixturevalue("ui_app")
    yield app, smtp_server


def on(page: str, role: Role) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    at.button(key=f"signin-{demo_email(role)}").click().run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_declare_and_alert_compliance_takes_two_clicks_and_sends_once(ui_smtp):
    app, server = ui_smtp
    item_ids = flagged_items(app)
    at = on("pages/incidents.py", Role.RESPONDER)
    assert set(at.multiselect(key="declare_items").value) == set(item_ids)  # preselected
    at.button(key="declare-alert").click().run()
    assert not at.exception, at.exception
    [incident] = q.list_incidents(app.db).to_dict(orient="records")
    assert incident["severity"] == "SEV2"
    [message] = q.list_communications(app.db).to_dict(orient="records")
    assert message["template"] == "compliance_alert" and message["status"] == "draft"
    at.button(key="send-alert").click().run()
    assert not at.exception, at.exception
    mail_relay_for(app, owner="test").drain()
    at.run()
    assert any("Compliance alert sent: delivered to 2" in s.value for s in at.success)
    assert sorted(e["rcpt_tos"][0] for e in server.inbox.envelopes) == [
        "compliance-oncall@harborvale.example", "dpo@harborvale.example"]
    # the incident's own view: clocks, customers affected, timeline
    assert any(df.value.shape[0] >= 4 for df in at.dataframe)  # clocks / records / timeline tables
    assert "Customers affected: 3" in " ".join(m.value for m in at.markdown)


def test_auditors_read_incidents_but_cannot_declare_or_change_them(ui_app):
    from core.commands import incidents
    from core.domain.roles import Actor

    comms.ensure_demo_contacts(ui_app.uow)
    incidents.declare_incident(ui_app.uow(), actor=Actor(demo_email(Role.RESPONDER), Role.RESPONDER),
                               title="Voice clone report", severity="SEV3")
    at = on("pages/incidents.py", Role.AUDITOR)
    keys = {b.key for b in at.button}
    assert "declare-alert" not in keys and "prepare-pack" in keys
    assert all(b.disabled for b in at.button if (b.key or "").startswith("status-"))
    at.button(key="prepare-pack").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")


def test_communications_draft_edit_diff_approve_send(ui_app):
    from core.commands import incidents
    from core.domain.roles import Actor

    comms.ensure_demo_contacts(ui_app.uow)
    item_ids = flagged_items(ui_app)
    incidents.declare_incident(ui_app.uow(), actor=Actor(demo_email(Role.RESPONDER), Role.RESPONDER),
                               title="Deepfake passports", severity="SEV1", item_ids=item_ids)
    at = on("pages/communications.py", Role.RESPONDER)
    at.selectbox(key="new_template").set_value("regulator_initial").run()
    assert at.selectbox(key="new_audience-regulator_initial").value == "regulator"
    assert at.selectbox(key="new_clock-regulator_initial").value == "gdpr_art33"
    at.button(key="prepare-draft").click().run()
    assert not at.exception, at.exception
    [message] = q.list_communications(ui_app.db).to_dict(orient="records")
    cid = message["id"]
    body = at.text_area(key=f"body-{cid}")
    body.set_value(body.value + "\nReasons for any delay: none.\n").run()
    at.button(key=f"save-{cid}").click().run()
    assert any("+Reasons for any delay: none." in c.value for c in at.code)
    assert at.button(key=f"send-{cid}").disabled  # external: not approved yet
    assert at.button(key=f"approve-{cid}").disabled  # responders do not approve

    lead = on("pages/communications.py", Role.COMPLIANCE_LEAD)
    lead.button(key=f"approve-{cid}").click().run()
    assert not lead.exception and q.communication(ui_app.db, cid)["status"] == "approved"

    reviewer = on("pages/communications.py", Role.REVIEWER)
    assert reviewer.button(key=f"send-{cid}").disabled  # reviewers never send to a regulator

    at = on("pages/communications.py", Role.RESPONDER)
    at.button(key=f"send-{cid}").click().run()  # to a regulator: asks first, naming who and which clock
    assert q.communication(ui_app.db, cid)["status"] == "approved"
    assert "GDPR: notify the supervisory authority" in " ".join(m.value for m in at.markdown)
    at.button(key=f"send-confirmed-{cid}").click().run()
    assert not at.exception and q.communication(ui_app.db, cid)["status"] == "sending"
    assert at.button(key=f"send-{cid}").disabled  # nothing to click twice; the service refuses a repeat too
    assert len(q.deliveries(ui_app.db, cid)) == 1
