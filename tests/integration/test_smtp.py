"""SMTP delivery against a real local server (aiosmtpd): STARTTLS with a CA made at run time,
AUTH after TLS only, and the exact message received."""
from __future__ import annotations

import secrets
import ssl
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.adapters.smtp import InvalidMessage, OutgoingEmail, SmtpMailer, build_message, is_transient
from core.localnet import free_port
from core.settings import SettingsError, SmtpSettings
from sf_emulator.tls import make_tls_files


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                               "content": envelope.original_content or envelope.content,
                               "tls": session.ssl is not None, "authenticated": session.authenticated,
                               "login": getattr(session.auth_data, "login", None)})
        return "250 OK"


class LocalSmtp:
    """A local SMTP server that offers STARTTLS and requires AUTH over TLS."""

    def __init__(self, directory: Path):
        self.tls = make_tls_files(directory / "smtp-tls")
        self.username, self.password = "rd-relay", secrets.token_urlsafe(16)  # made up per run
        self.inbox = _Inbox()
        self.port = free_port()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls.cert_path, self.tls.key_path)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, auth_required=True, auth_require_tls=True,
                                     authenticator=self._authenticate)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.username \
            and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def settings(self, **overrides) -> SmtpSettings:
        return SmtpSettings(**{"host": "localhost", "port": self.port, "username": self.username,
                               "password": self.password, "from_address": "response-desk@harborvale.example",
                               "ca_file": str(self.tls.ca_path), "timeout_s": 10, **overrides})

    def env(self) -> dict[str, str]:
        s = self.settings()
        return {"RD_SMTP_HOST": s.host, "RD_SMTP_PORT": str(s.port), "RD_SMTP_USERNAME": s.username,
                "RD_SMTP_PASSWORD": s.password, "RD_SMTP_FROM": s.from_address, "RD_SMTP_STARTTLS": "true",
                "RD_SMTP_CA_FILE": s.ca_file}


@contextmanager
def local_smtp(directory: Path):
    server = LocalSmtp(directory)
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtp_server(tmp_path):
    with local_smtp(tmp_path) as server:
        yield server


def test_sends_over_starttls_with_auth_and_the_server_receives_exactly_the_message(smtp_server):
    email = OutgoingEmail(to="compliance-oncall@harborvale.example", subject="[SEV1] INC-0001 Deepfake: alert",
                          text="Plain part.\nLine two.\n", html="<p>HTML &amp; part</p>\n",
                          message_id="<rd-1-1@harborvale.example>")
    message_id = SmtpMailer(smtp_server.settings()).send(email)
    [got] = smtp_server.inbox.envelopes
    assert got["tls"] and got["authenticated"] and got["login"] == b"rd-relay"
    assert got["mail_from"] == "response-desk@harborvale.example"
    assert got["rcpt_tos"] == ["compliance-oncall@harborvale.example"]
    received = message_from_bytes(got["content"], policy=policy.SMTP)
    assert message_id == "<rd-1-1@harborvale.example>"
    assert [(k, str(v)) for k, v in received.items() if k != "Date"] == [
        ("From", "response-desk@harborvale.example"), ("To", "compliance-oncall@harborvale.example"),
        ("Subject", "[SEV1] INC-0001 Deepfake: alert"), ("Message-ID", "<rd-1-1@harborvale.example>"),
        ("Auto-Submitted", "auto-generated"), ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/alternative; boundary="' + received.get_boundary() + '"')]
    text, html = received.get_payload()
    assert text.get_content_type() == "text/plain" and text.get_content() == "Plain part.\r\nLine two.\r\n"  # CRLF on the wire
    assert html.get_content_type() == "text/html" and html.get_content() == "<p>HTML &amp; part</p>\r\n"
    # what arrived is byte for byte what we built (Date aside)
    built = build_message("response-desk@harborvale.example", email)
    del built["Date"]
    arrived = message_from_bytes(got["content"], policy=policy.SMTP)
    del arrived["Date"]
    assert arrived.get_payload(0).as_bytes() == built.get_payload(0).as_bytes()


def test_a_server_certificate_from_an_unknown_ca_is_refused_and_not_retried(smtp_server, tmp_path):
    other_ca = make_tls_files(tmp_path / "other").ca_path
    with pytest.raises(ssl.SSLCertVerificationError) as raised:
        SmtpMailer(smtp_server.settings(ca_file=str(other_ca))).send(
            OutgoingEmail(to="a@harborvale.example", subject="s", text="t"))
    assert not is_transient(raised.value)
    assert smtp_server.inbox.envelopes == []


def test_a_wrong_password_is_refused_and_not_retried(smtp_server):
    import smtplib

    with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        SmtpMailer(smtp_server.settings(password="not-the-password-1")).send(
            OutgoingEmail(to="a@harborvale.example", subject="s", text="t"))
    assert not is_transient(raised.value)


@pytest.mark.parametrize("to", ["a@b.example\r\nBcc: x@evil.example", "a@b.example, x@evil.example",
                                "Name <a@b.example>", "no-at-sign", "a@b.example\n"])
def test_header_injection_through_the_recipient_is_impossible(to):
    with pytest.raises(InvalidMessage):
        build_message("rd@harborvale.example", OutgoingEmail(to=to, subject="s", text="t"))


@pytest.mark.parametrize("subject", ["Alert\r\nBcc: x@evil.example", "Alert\nX-Injected: 1", "  "])
def test_a_subject_with_a_line_break_is_refused(subject):
    with pytest.raises(InvalidMessage):
        build_message("rd@harborvale.example", OutgoingEmail(to="a@b.example", subject=subject, text="t"))


def test_a_connection_refused_is_transient(tmp_path):
    port = free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, from_address="rd@harborvale.example", timeout_s=2)
    with pytest.raises(OSError) as raised:
        SmtpMailer(settings).send(OutgoingEmail(to="a@b.example", subject="s", text="t"))
    assert is_transient(raised.value)


def test_settings_refuse_placeholders_and_plaintext_credentials():
    with pytest.raises(SettingsError):
        SmtpSettings(host="smtp.example", from_address="rd@x.example", username="u", password="changeme")
    with pytest.raises(SettingsError):
        SmtpSettings(host="smtp.example", from_address="rd@x.example", username="u", password="long-enough-1",
                     starttls=False)
    with pytest.raises(SettingsError):
        SmtpSettings(host="smtp.example", from_address="rd@x.example\r\nBcc: y@z.example")
    SmtpSettings(host="localhost", from_address="rd@x.example", starttls=False)


def test_settings_load_from_the_environment(monkeypatch, tmp_path):
    from core.settings import load_settings

    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RD_AUDIT_KEY", "test-audit-key-not-a-secret-0123456789")
    for key, value in {"RD_SMTP_HOST": "smtp.harborvale.example", "RD_SMTP_PORT": "2587",
                       "RD_SMTP_USERNAME": "relay", "RD_SMTP_PASSWORD": "made-up-for-test-42",
                       "RD_SMTP_FROM": "rd@harborvale.example", "RD_SMTP_STARTTLS": "true",
                       "RD_SMTP_CA_FILE": "/tmp/ca.pem"}.items():
        monkeypatch.setenv(key, value)
    smtp = load_settings().smtp
    assert (smtp.host, smtp.port, smtp.username, smtp.starttls, smtp.ca_file) == \
        ("smtp.harborvale.example", 2587, "relay", True, "/tmp/ca.pem")
