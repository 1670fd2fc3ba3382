"""The mail relay: delivers queued messages, one outbox row per recipient, by SMTP ("email.smtp")
or Salesforce's emailSimple action ("email.salesforce"), and keeps the delivery log.

A delivery is marked delivered only by the relay holding its outbox lease, in the transaction that
writes its audit event; failures back off and retry (core.commands.outbox), and the last attempt
parks a dead letter that the delivery log and the message show as failed. Each SMTP message carries
a Message-ID fixed per delivery, so in the rare case of a crash between the server's acceptance
and our commit, the one repeat is recognisable as the same message."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.adapters.salesforce import effects
from core.adapters.salesforce.gateway import SalesforceGateway
from core.adapters.salesforce.gateway import is_transient as sf_transient
from core.adapters.smtp import Mailer, OutgoingEmail, SmtpMailer
from core.adapters.smtp import is_transient as smtp_transient
from core.commands import deliveries
from core.domain.messages import DeliveryStatus
from core.domain.outbox import RetryPolicy
from core.domain.roles import Actor
from core.loops.relay import OutboxRelay
from core.models import Communication, Delivery, OutboxEntry

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App

log = logging.getLogger(__name__)
MAIL_RELAY = Actor.system("mail-relay")
KINDS = ("email.smtp", "email.salesforce")


class NotConfigured(RuntimeError):
    """The channel a message chose has no settings on this installation."""


class MailRelay(OutboxRelay):
    actor = MAIL_RELAY
    batch = 50

    def __init__(self, app, *, owner: str, mailer: Mailer | None = None,
                 gateway: SalesforceGateway | None = None, policy: RetryPolicy = RetryPolicy()):
        super().__init__(app, owner=owner, policy=policy)
        self.mailer, self.gw = mailer, gateway
        self.senders: dict[str, Callable[[Communication, Delivery], str]] = {
            "email.smtp": self._smtp, "email.salesforce": self._salesforce}
        self.handlers = {kind: (lambda entries, send=send: self._deliver_each(entries, send))
                         for kind, send in self.senders.items()}

    def transient(self, error: Exception) -> bool:
        if isinstance(error, NotConfigured):
            return False
        return smtp_transient(error) or sf_transient(error)

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

    # -- one recipient at a time: one failure is that recipient's alone --------------------------
    def _deliver_each(self, entries: list[OutboxEntry], sender: Callable[[Communication, Delivery], str]) -> None:
        for entry in entries:
            with self.app.db.reader() as s:
                c = s.get(Communication, entry.payload["communication_id"])
                d = s.get(Delivery, entry.payload["delivery_id"])
            try:
                message_id = d.message_id if d.status == DeliveryStatus.DELIVERED else sender(c, d)
            except Exception as error:
                text = f"{type(error).__name__}: {error}"
                status = self.fail(entry, text, transient=self.transient(error))
                log.warning("delivery %s of message %s to %s failed (%s): %s", d.id, c.id, d.recipient, status, text)
                deliveries.record_undelivered(self.app.uow(), actor=MAIL_RELAY, delivery_id=d.id, status=status,
                                              error=text)
                continue
            deliveries.record_delivered(self.app.uow(), actor=MAIL_RELAY, entry=entry, owner=self.owner,
                                        message_id=message_id)


def mail_relay_for(app: App, *, owner: str, policy: RetryPolicy = RetryPolicy()) -> MailRelay:
    """The relay with this installation's channels: SMTP when configured, the org when there is one."""
    mailer = SmtpMailer(app.settings.smtp) if app.settings.smtp is not None else None
    return MailRelay(app, owner=owner, mailer=mailer, gateway=app.salesforce(), policy=policy)
