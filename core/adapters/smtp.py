"""Sending mail over SMTP: STARTTLS with certificate verification, then authentication.

Messages are built as email.message.EmailMessage with policy=SMTP, which refuses CR or LF in any
header value; addresses and subjects are checked before that, so a recipient or subject taken
from a form or a Salesforce record can never add a header or a recipient."""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from core.clock import utcnow
from core.settings import SmtpSettings

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class InvalidMessage(ValueError):
    """An address or header the mail system must not send."""


def check_address(address: str) -> str:
    """One plain address (local@domain), no display name, no separators, no line breaks."""
    if not isinstance(address, str) or len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise InvalidMessage(f"not a single valid email address: {address!r}")
    return address


def check_subject(subject: str) -> str:
    if "\r" in subject or "\n" in subject:
        raise InvalidMessage("a subject cannot contain a line break")
    if not subject.strip():
        raise InvalidMessage("a message needs a subject")
    return subject


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # stable per delivery, so a recipient can recognise a repeat


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> str:
        """Deliver to the relay; returns the Message-ID. Raises on failure."""


def build_message(sender: str, email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    local, domain = check_address(sender).split("@")
    message["From"] = Address(addr_spec=f"{local}@{domain}")
    message["To"] = Address(addr_spec=check_address(email.to))
    message["Subject"] = check_subject(email.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = email.message_id or f"<{utcnow().timestamp():.6f}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


def is_transient(error: Exception) -> bool:
    """Worth retrying: the server is busy or unreachable, or said 4xx. Not: 5xx, bad certificate, bad login."""
    if isinstance(error, (smtplib.SMTPAuthenticationError, ssl.SSLCertVerificationError, InvalidMessage)):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError,
                              socket.timeout, TimeoutError, OSError))


class SmtpMailer:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def _tls_context(self) -> ssl.SSLContext:
        # Verifies the chain and the host name; a private CA file replaces the system store.
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def send(self, email: OutgoingEmail) -> str:
        s = self.settings
        message = build_message(s.from_address, email)
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
            smtp.send_message(message, from_addr=s.from_address, to_addrs=[email.to])
        return message["Message-ID"]
