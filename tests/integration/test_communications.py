"""The message flow: prefilled draft -> edit -> approval for external audiences -> send once ->
delivery log, over real SMTP (aiosmtpd) and the emulator's emailSimple; clocks stop on sending."""
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from core.adapters.smtp import SmtpMailer
from core.commands import communications as comms
from core.domain.errors import FourEyesViolation, IllegalTransition, PermissionDenied
from core.domain.outbox import RetryPolicy
from core.domain.roles import Actor
from core.loops.mail_relay import MailRelay
from core.models import AuditEvent, OutboxEntry
from core.queries import incidents as q
from tests.conftest import enroll
from tests.integration.test_incidents_helpers import COMPLIANCE, COMPLIANCE_2, RESPONDER, REVIEWER, incident_with_items
from tests.integration.test_smtp import smtp_server  # noqa: F401 (fixture)


def _actions(app, communication_id):
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "communication", AuditEvent.object_id == str(communication_id))
            .order_by(AuditEvent.seq)).scalars())


def test_compliance_alert_is_prefilled_sent_once_and_logged_per_recipient(sqlite_app, smtp_server):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="compliance_alert", idempotency_key="draft-1")
    assert comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                              template="compliance_alert", idempotency_key="draft-1") == cid
    draft = q.communication(sqlite_app.db, cid)
    assert draft["audience"] == "compliance" and draft["body_text"] == draft["prefilled_text"]
    assert {r["email"] for r in draft["recipients"]} == {"compliance-oncall@harborvale.example",
                                                        "dpo@harborvale.example"}
    assert "00" * 32 in draft["body_text"] and "Customers affected: 3" in draft["body_text"]

    first = comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    again = comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    assert first.sent_now and not again.sent_now and "nothing was sent again" in again.message
    MailRelay(sqlite_app, owner="t", mailer=SmtpMailer(smtp_server.settings())).drain()
    MailRelay(sqlite_app, owner="t", mailer=SmtpMailer(smtp_server.settings())).drain()

    received = sorted(smtp_server.inbox.envelopes, key=lambda e: e["rcpt_tos"])
    assert [e["rcpt_tos"] for e in received] == [["compliance-oncall@harborvale.example"],
                                                 ["dpo@harborvale.example"]]
    message = message_from_bytes(received[0]["content"], policy=policy.SMTP)
    assert message["Subject"] == draft["subject"] and message["Message-ID"].startswith(f"<rd-{cid}-")
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == draft["body_text"]
    log = q.deliveries(sqlite_app.db, cid)
    assert list(log["status"]) == ["delivered", "delivered"] and list(log["attempts"]) == [1, 1]
    assert q.communication(sqlite_app.db, cid)["status"] == "sent"
    assert _actions(sqlite_app, cid) == ["communication.drafted", "communication.send_requested",
                                         "communication.delivered", "communication.delivered",
                                         "communication.sent"]


def test_external_messages_need_a_compliance_lead_who_did_not_write_them(any_app):
    incident_id, _ = incident_with_items(any_app)
    cid = comms.create_draft(any_app.uow(), actor=COMPLIANCE, incident_id=incident_id,
                             template="regulator_initial", idempotency_key="reg-1")
    with pytest.raises(IllegalTransition):  # not approved yet
        comms.send(any_app.uow(), actor=COMPLIANCE, communication_id=cid)
    with pytest.raises(FourEyesViolation):  # the author cannot approve
        comms.approve(any_app.uow(), actor=COMPLIANCE, communication_id=cid)
    with pytest.raises(PermissionDenied):  # responders do not approve
        comms.approve(any_app.uow(), actor=RESPONDER, communication_id=cid)
    comms.edit_draft(any_app.uow(), actor=COMPLIANCE_2, communication_id=cid,
                     body_text=q.communication(any_app.db, cid)["body_text"] + "\nReasons for any delay: none.\n")
    with pytest.raises(FourEyesViolation):  # nor can someone who edited it
        comms.approve(any_app.uow(), actor=COMPLIANCE_2, communication_id=cid)
    comms.request_approval(any_app.uow(), actor=RESPONDER, communication_id=cid)
    third = Actor("third@demo.responsedesk.local", COMPLIANCE.role)
    enroll(any_app, third)
    comms.approve(any_app.uow(), actor=third, communication_id=cid)
    with pytest.raises(PermissionDenied):  # a reviewer cannot send to a regulator, approved or not
        comms.send(any_app.uow(), actor=REVIEWER, communication_id=cid)
    comms.edit_draft(any_app.uow(), actor=RESPONDER, communication_id=cid, subject="GDPR Art. 33 notification")
    assert q.communication(any_app.db, cid)["status"] == "draft"  # an edit voids the approval
    comms.approve(any_app.uow(), actor=third, communication_id=cid)
    assert comms.send(any_app.uow(), actor=RESPONDER, communication_id=cid).sent_now
    with any_app.db.reader() as s:
        assert s.execute(select(OutboxEntry.kind)).scalars().all().count("email.smtp") == 1  # one regulator


def test_a_reviewer_may_send_internal_messages(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=REVIEWER, incident_id=incident_id, template="security_page",
                             idempotency_key="sec-1")
    assert comms.send(sqlite_app.uow(), actor=REVIEWER, communication_id=cid).sent_now


def test_edits_are_shown_against_the_prefilled_text_and_the_html_follows_them(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="executive_summary", idempotency_key="exec-1")
    text = q.communication(sqlite_app.db, cid)["body_text"]
    comms.edit_draft(sqlite_app.uow(), actor=RESPONDER, communication_id=cid,
                     body_text=text.replace("none yet", "approve <b>outside counsel</b>"))
    edited = q.communication(sqlite_app.db, cid)
    from core.adapters.templates import changes

    diff = changes(edited["prefilled_text"], edited["body_text"])
    assert "-Decisions needed from you: none yet" in diff and "+Decisions needed from you: approve" in diff
    assert "&lt;b&gt;outside counsel&lt;/b&gt;" in edited["body_html"]
    with pytest.raises(ValueError):
        comms.edit_draft(sqlite_app.uow(), actor=RESPONDER, communication_id=cid, subject="a\r\nBcc: x@y.example")
    with pytest.raises(ValueError):
        comms.edit_draft(sqlite_app.uow(), actor=RESPONDER, communication_id=cid, recipients=["a@b.example\nc"])


def test_salesforce_email_simple_delivers_and_the_emulator_logs_it(sqlite_app, emu, gateway):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="salesforce_containment", idempotency_key="sf-1", channel="salesforce")
    assert comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid).sent_now
    MailRelay(sqlite_app, owner="t", gateway=gateway).drain()
    draft = q.communication(sqlite_app.db, cid)
    [sent] = emu.org.emails
    assert sent["to"] == ["admin@harborvale.example"] and sent["subject"] == draft["subject"]
    assert sent["body"] == draft["body_text"]
    assert list(q.deliveries(sqlite_app.db, cid)["status"]) == ["delivered"]
    assert draft["status"] == "sent"


def test_failures_retry_with_backoff_then_park_visibly(sqlite_app, tmp_path):
    from core.localnet import free_port
    from core.settings import SmtpSettings

    closed_port = free_port()
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=closed_port, from_address="rd@harborvale.example",
                                     starttls=False, timeout_s=2))
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="legal_brief", idempotency_key="legal-1")
    comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    relay = MailRelay(sqlite_app, owner="t", mailer=mailer, policy=RetryPolicy(max_attempts=2, base_s=0))
    relay.run_once()
    [row] = q.deliveries(sqlite_app.db, cid).to_dict(orient="records")
    assert row["status"] == "retrying" and row["attempts"] == 1 and "ConnectionRefused" in row["last_error"]
    relay.run_once()
    [row] = q.deliveries(sqlite_app.db, cid).to_dict(orient="records")
    assert row["status"] == "failed" and row["attempts"] == 2
    assert q.communication(sqlite_app.db, cid)["status"] == "failed"
    with sqlite_app.db.reader() as s:
        assert s.execute(select(OutboxEntry.status)).scalars().all() == ["dead"]
    assert "communication.delivery_failed" in _actions(sqlite_app, cid)


def test_an_unconfigured_channel_fails_at_once_with_a_clear_error(sqlite_app):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="status_update", idempotency_key="st-1", channel="salesforce")
    comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    MailRelay(sqlite_app, owner="t").drain()
    for row in q.deliveries(sqlite_app.db, cid).to_dict(orient="records"):
        assert row["status"] == "failed" and row["attempts"] == 1
        assert "no Salesforce org is configured" in row["last_error"]


def test_the_message_that_satisfies_a_clock_stops_it(sqlite_app, smtp_server):
    incident_id, _ = incident_with_items(sqlite_app)
    cid = comms.create_draft(sqlite_app.uow(), actor=RESPONDER, incident_id=incident_id,
                             template="regulator_initial", idempotency_key="reg-2")
    assert q.communication(sqlite_app.db, cid)["clock_rule"] == "gdpr_art33"
    comms.approve(sqlite_app.uow(), actor=COMPLIANCE, communication_id=cid)
    comms.send(sqlite_app.uow(), actor=RESPONDER, communication_id=cid)
    clocks = {c["rule_id"]: c for c in q.incident_clocks(sqlite_app.db, incident_id)}
    assert clocks["gdpr_art33"]["state"] == "running"  # queued is not sent
    MailRelay(sqlite_app, owner="t", mailer=SmtpMailer(smtp_server.settings())).drain()
    clocks = {c["rule_id"]: c for c in q.incident_clocks(sqlite_app.db, incident_id)}
    assert clocks["gdpr_art33"]["state"] == "met" and clocks["gdpr_art33"]["met_at"] is not None
    assert clocks["nydfs_500_17"]["state"] == "running"
