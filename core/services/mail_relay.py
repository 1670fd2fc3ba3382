"""The mail relay: delivers queued messages, one outbox row per recipient, by SMTP ("email.smtp")
or Salesforce's emailSimple action ("email.salesforce"), and keeps the delivery log.

A delivery is marked delivered only by the relay holding its outbox lease, in the transaction that
writes its audit event; failures back off and retry (core.services.outbox), and the last attempt
parks a dead letter that the delivery log and the message show as failed. Each SMTP message carries
a Message-ID fixed per delivery, so in the rare case of a crash between the server's acceptance
and our commit, the one repeat is recognisable as the same message."""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import select

from core.adapters.salesforce import effects
from core.adapters.salesforce.gateway import SalesforceGateway
from core.adapters.salesforce.gateway import is_transient as sf_transient
from core.adapters.smtp import Mailer, OutgoingEmail, SmtpMailer
from core.adapters.smtp import is_transient as smtp_transient
from core.bootstrap import App
from core.clock import utcnow
from core.domain.roles import Actor
from core.models import Communication, Delivery, OutboxEntry
from core.services import outbox
from core.services.outbox import RetryPolicy

log = logging.getLogger(__name__)
MAIL_RELAY = Actor.system("mail-relay")
KINDS = ("email.smtp", "email.salesforce")


class NotConfigured(RuntimeError):
    """The channel a message chose has no settings on this installation."""


class MailRelay:
    def __init__(self, app: App, *, owner: str, mailer: Mailer | None = None,
                 gateway: SalesforceGateway | None = None, policy: RetryPolicy = RetryPolicy()):
        self.app, self.owner, self.mailer, self.gw, self.policy = app, owner, mailer, gateway, policy
        self.senders: dict[str, Callable[[Communication, Delivery], str]] = {
            "email.smtp": self._smtp, "email.salesforce": self._salesforce}

    def run_once(self) -> int:
        attempted = 0
        for kind, sender in self.senders.items():
            for entry in outbox.claim(self.app.db, kinds=(kind,), owner=self.owner, limit=50):
                attempted += 1
                self._deliver(entry, sender)
        return attempted

    def drain(self, max_passes: int = 100) -> None:
        for _ in range(max_passes):
            if not self.run_once():
                return

    # -- senders ---------------------------------------------------------------------------------
    def _smtp(self, c: Communication, d: Delivery) -> str:
        if self.mailer is None:
            raise NotConfigured("SMTP is not configured (RD_SMTP_HOST, RD_SMTP_FROM)")
        domain = getattr(getattr(self.mailer, "settings", None), "from_address", "responsedesk.local").split("@")[-1]
        return self.mailer.send(OutgoingEmail(to=d.recipient, subject=c.subject, text=c.body_text,
                                              html=c.body_html or None,
                                              message_id=f"<rd-{c.id}-{d.id}@{domain}>"))

    def _salesforce(self, c: Communication, d: Delivery) -> str:
        if self.gw is None:
            raise NotConfigured("no Salesforce org is configured for emailSimple")
        effects.send_email(self.gw, [d.recipient], c.subject, c.body_text)
        return "emailSimple"

    @staticmethod
    def _transient(error: Exception) -> bool:
        if isinstance(error, NotConfigured):
            return False
        return smtp_transient(error) or sf_transient(error)

    # -- bookkeeping -----------------------------------------------------------------------------
    def _deliver(self, entry: OutboxEntry, sender: Callable[[Communication, Delivery], str]) -> None:
        with self.app.db.reader() as s:
            c = s.get(Communication, entry.payload["communication_id"])
            d = s.get(Delivery, entry.payload["delivery_id"])
        try:
            message_id = d.message_id if d.status == "delivered" else sender(c, d)
        except Exception as error:
            self._failed(entry, c, d, error)
            return
        with self.app.uow() as uow:
            if outbox.mark_done(uow.session, entry, self.owner):
                d = uow.session.get(Delivery, d.id)
                d.status, d.message_id, d.delivered_at = "delivered", message_id, utcnow()
                d.attempts, d.last_error = d.attempts + 1, None
                uow.session.add(d)
                uow.record(MAIL_RELAY, "communication.delivered", "communication", c.id,
                           after={"recipient": d.recipient, "channel": d.channel, "message_id": message_id,
                                  "attempts": d.attempts})
                self._settle(uow, c.id)
            uow.commit()

    def _failed(self, entry: OutboxEntry, c: Communication, d: Delivery, error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        status = outbox.mark_failed(self.app.db, entry, self.owner, text, transient=self._transient(error),
                                    policy=self.policy)
        log.warning("delivery %s of message %s to %s failed (%s): %s", d.id, c.id, d.recipient, status, text)
        with self.app.uow() as uow:
            d = uow.session.get(Delivery, d.id)
            d.attempts, d.last_error = d.attempts + 1, text[:2000]
            d.status = "failed" if status == "dead" else "retrying"
            uow.session.add(d)
            if status == "dead":
                uow.record(MAIL_RELAY, "communication.delivery_failed", "communication", c.id,
                           after={"recipient": d.recipient, "channel": d.channel, "attempts": d.attempts},
                           reason=text[:500], outcome="failure")
            self._settle(uow, c.id)
            uow.commit()

    def _settle(self, uow, communication_id: int) -> None:
        """The message is sent when every recipient has it; failed once any delivery is dead."""
        uow.session.flush()
        statuses = set(uow.session.execute(select(Delivery.status).where(
            Delivery.communication_id == communication_id)).scalars())
        c = uow.session.get(Communication, communication_id)
        target = "sent" if statuses == {"delivered"} else "failed" if "failed" in statuses else c.status
        if target != c.status:
            before, c.status = c.status, target
            if target == "sent":
                c.sent_at = utcnow()
            uow.session.add(c)
            uow.record(MAIL_RELAY, f"communication.{target}", "communication", c.id,
                       before={"status": before}, after={"status": target, "clock_rule": c.clock_rule},
                       outcome="success" if target == "sent" else "failure")


def mail_relay_for(app: App, *, owner: str, policy: RetryPolicy = RetryPolicy()) -> MailRelay:
    """The relay with this installation's channels: SMTP when configured, the org when there is one."""
    mailer = SmtpMailer(app.settings.smtp) if app.settings.smtp is not None else None
    return MailRelay(app, owner=owner, mailer=mailer, gateway=app.salesforce(), policy=policy)
