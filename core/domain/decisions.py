"""Reviewers' decisions on a held item: kinds, reason codes, and the second pair of eyes that a
high-risk release waits for."""
from __future__ import annotations

from enum import StrEnum

from core.domain.errors import IllegalTransition


class DecisionKind(StrEnum):
    CONFIRM_SYNTHETIC = "confirm_synthetic"
    RELEASE = "release"

    @property
    def label(self) -> str:
        return {DecisionKind.CONFIRM_SYNTHETIC: "Confirmed synthetic", DecisionKind.RELEASE: "Release"}[self]


class DecisionStatus(StrEnum):
    FINAL = "final"                        # took effect when it was made
    PENDING_APPROVAL = "pending_approval"  # a high-risk release waiting for a second person
    APPROVED = "approved"                  # the second person approved; it took effect then

    @property
    def label(self) -> str:
        return {DecisionStatus.FINAL: "Final", DecisionStatus.PENDING_APPROVAL: "Waiting for a second approver",
                DecisionStatus.APPROVED: "Approved"}[self]


ALLOWED: dict[DecisionStatus, frozenset[DecisionStatus]] = {
    DecisionStatus.FINAL: frozenset(),
    DecisionStatus.PENDING_APPROVAL: frozenset({DecisionStatus.APPROVED}),
    DecisionStatus.APPROVED: frozenset(),
}


def check_transition(current: DecisionStatus | str, target: DecisionStatus | str) -> None:
    current, target = DecisionStatus(current), DecisionStatus(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"a decision cannot go from {current} to {target}")


# Reason codes, with the words people read.
RELEASE_REASONS: dict[str, str] = {
    "false_positive": "False positive: the detectors were wrong",
    "genuine_verified_with_customer": "Genuine: verified with the customer",
    "known_genuine_source": "Genuine: from a known source",
    "policy_exception": "Policy exception",
    "other": "Other (explained in the note)",
}
CONFIRM_REASONS: dict[str, str] = {
    "generator_traces": "Generator traces",
    "known_synthetic_match": "Matches a known synthetic file",
    "provenance_declares_ai": "Its provenance declares AI generation",
    "customer_confirmed_forgery": "The customer confirmed a forgery",
    "other": "Other (explained in the note)",
}
RELEASE_REASON_CODES = tuple(RELEASE_REASONS)
CONFIRM_REASON_CODES = tuple(CONFIRM_REASONS)


def check_reason(reason_code: str, allowed: tuple[str, ...], note: str) -> None:
    if reason_code not in allowed:
        raise ValueError(f"reason code must be one of: {', '.join(allowed)}")
    if reason_code == "other" and not note.strip():
        raise ValueError("reason 'other' needs an explanation in the note")
