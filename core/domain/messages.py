"""A message's life: draft -> (approval) -> sending -> sent or failed, per recipient delivered or
failed, and the outbox rows that carry every effect on the outside world."""
from __future__ import annotations

from enum import StrEnum

from core.domain.errors import IllegalTransition


class MessageStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return MESSAGE_LABELS[self]


M = MessageStatus
MESSAGE_LABELS = {M.DRAFT: "Draft", M.PENDING_APPROVAL: "Waiting for approval", M.APPROVED: "Approved",
                  M.SENDING: "Sending", M.SENT: "Sent", M.FAILED: "Failed"}
ALLOWED: dict[MessageStatus, frozenset[MessageStatus]] = {
    M.DRAFT: frozenset({M.PENDING_APPROVAL, M.APPROVED, M.SENDING}),
    # An edit sends an approved or waiting message back to draft: the approval was of other words.
    M.PENDING_APPROVAL: frozenset({M.APPROVED, M.DRAFT}),
    M.APPROVED: frozenset({M.SENDING, M.DRAFT}),
    M.SENDING: frozenset({M.SENT, M.FAILED}),
    M.SENT: frozenset(),
    M.FAILED: frozenset(),
}
EDITABLE = frozenset({M.DRAFT, M.PENDING_APPROVAL, M.APPROVED})
ALREADY_SENT = frozenset({M.SENDING, M.SENT, M.FAILED})


def check_transition(current: MessageStatus | str, target: MessageStatus | str) -> None:
    current, target = MessageStatus(current), MessageStatus(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"a message cannot go from {current.label.lower()} to {target.label.lower()}")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {DeliveryStatus.PENDING: "Waiting", DeliveryStatus.RETRYING: "Retrying",
                DeliveryStatus.DELIVERED: "Delivered", DeliveryStatus.FAILED: "Failed"}[self]


def settled_status(current: MessageStatus | str, deliveries: set[DeliveryStatus]) -> MessageStatus:
    """A message is sent when every recipient has it, failed once any delivery failed for good."""
    if deliveries and deliveries == {DeliveryStatus.DELIVERED}:
        return M.SENT
    if DeliveryStatus.FAILED in deliveries:
        return M.FAILED
    return MessageStatus(current)
