"""What the mail relay learns about a message's recipients, recorded as commands: delivered (the
outbox entry done in the same transaction) or failed, and the message settled from its deliveries."""
from __future__ import annotations

from sqlalchemy import select

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.commands.outbox import complete
from core.domain.audit_actions import AuditAction
from core.domain.messages import DeliveryStatus, MessageStatus, settled_status
from core.domain.outbox import OutboxStatus
from core.domain.roles import Action, Actor
from core.models import Communication, Delivery, OutboxEntry


def record_delivered(uow: UnitOfWork, *, actor: Actor, entry: OutboxEntry, owner: str, message_id: str) -> bool:
    """One recipient has the message. False when another relay holds the entry now."""
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        if not complete(uow, entry, owner):
            return False
        d = uow.session.get(Delivery, entry.payload["delivery_id"], with_for_update=True)
        d.status, d.message_id, d.delivered_at = DeliveryStatus.DELIVERED, message_id, utcnow()
        d.attempts, d.last_error = d.attempts + 1, None
        uow.session.add(d)
        uow.record(actor, AuditAction.COMMUNICATION_DELIVERED, "communication", d.communication_id,
                   after={"recipient": d.recipient, "channel": d.channel, "message_id": message_id,
                          "attempts": d.attempts})
        _settle(uow, actor, d.communication_id)
        uow.commit()
        return True


def record_undelivered(uow: UnitOfWork, *, actor: Actor, delivery_id: int, status: OutboxStatus, error: str) -> None:
    """An attempt failed: the delivery retries, or failed for good (its outbox entry is a dead letter)."""
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        d = uow.session.get(Delivery, delivery_id, with_for_update=True)
        d.attempts, d.last_error = d.attempts + 1, error[:2000]
        d.status = DeliveryStatus.FAILED if status == OutboxStatus.DEAD else DeliveryStatus.RETRYING
        uow.session.add(d)
        if d.status == DeliveryStatus.FAILED:
            uow.record(actor, AuditAction.COMMUNICATION_DELIVERY_FAILED, "communication", d.communication_id,
                       after={"recipient": d.recipient, "channel": d.channel, "attempts": d.attempts},
                       reason=error[:500], outcome="failure")
        _settle(uow, actor, d.communication_id)
        uow.commit()


def _settle(uow: UnitOfWork, actor: Actor, communication_id: int) -> None:
    """The message is sent when every recipient has it; failed once any delivery failed for good."""
    uow.session.flush()
    statuses = {DeliveryStatus(s) for s in uow.session.execute(select(Delivery.status).where(
        Delivery.communication_id == communication_id)).scalars()}
    c = uow.session.get(Communication, communication_id, with_for_update=True)
    target = settled_status(c.status, statuses)
    if target == c.status:
        return
    before, c.status = c.status, target
    if target is MessageStatus.SENT:
        c.sent_at = utcnow()
    uow.session.add(c)
    uow.record(actor, AuditAction.COMMUNICATION_SENT if target is MessageStatus.SENT else AuditAction.COMMUNICATION_FAILED,
               "communication", c.id, before={"status": before}, after={"status": target, "clock_rule": c.clock_rule},
               outcome="success" if target is MessageStatus.SENT else "failure")
