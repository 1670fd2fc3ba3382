"""The media item lifecycle: the only place that says which state may follow which.

    received -> scanning -> clean
                         -> quarantined (flagged, or unscannable with a reason)
    quarantined -> in_review -> confirmed_synthetic
                             -> released

Fail closed: `clean` needs a completed scan, `released` needs a recorded human decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.domain.errors import IllegalTransition


class ItemState(StrEnum):
    RECEIVED = "received"
    SCANNING = "scanning"
    CLEAN = "clean"
    QUARANTINED = "quarantined"
    IN_REVIEW = "in_review"
    CONFIRMED_SYNTHETIC = "confirmed_synthetic"
    RELEASED = "released"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNSCANNABLE = "unscannable"

    @property
    def label(self) -> str:
        return RISK_LABELS[self]


# The words people read for each state and risk.
STATE_LABELS = {ItemState.RECEIVED: "Received", ItemState.SCANNING: "Scanning", ItemState.CLEAN: "Clean",
                ItemState.QUARANTINED: "Waiting for review", ItemState.IN_REVIEW: "In review",
                ItemState.CONFIRMED_SYNTHETIC: "Confirmed synthetic", ItemState.RELEASED: "Released"}
RISK_LABELS = {Risk.LOW: "Low", Risk.MEDIUM: "Medium", Risk.HIGH: "High", Risk.UNSCANNABLE: "Unscannable"}


S = ItemState
ALLOWED: dict[ItemState, frozenset[ItemState]] = {
    # Pre-emptive holds (issue: fail closed under backlog) cut links in Salesforce while the
    # item stays unverified; they are not a lifecycle state, so no unscanned item is ever
    # in review or released.
    S.RECEIVED: frozenset({S.SCANNING}),
    # scanning -> received: a scan given up (lease expired, worker stopped) goes back to the queue.
    S.SCANNING: frozenset({S.CLEAN, S.QUARANTINED, S.RECEIVED}),
    # clean -> quarantined: a later bank match or a person flags a file that passed.
    S.CLEAN: frozenset({S.QUARANTINED}),
    S.QUARANTINED: frozenset({S.IN_REVIEW}),
    # in_review -> quarantined: the reviewer hands the item back to the queue undecided.
    S.IN_REVIEW: frozenset({S.CONFIRMED_SYNTHETIC, S.RELEASED, S.QUARANTINED}),
    S.CONFIRMED_SYNTHETIC: frozenset(),
    S.RELEASED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
# States in which the file is held away from customer records.
HELD = frozenset({S.QUARANTINED, S.IN_REVIEW, S.CONFIRMED_SYNTHETIC})
# States in which the item still waits for its first verdict.
UNVERIFIED = frozenset({S.RECEIVED, S.SCANNING})


@dataclass(frozen=True)
class Grounds:
    """What justifies a move: a completed scan, a human decision, or neither."""

    scan_completed: bool = False
    human_decision: bool = False


def check_transition(current: ItemState, target: ItemState, grounds: Grounds = Grounds()) -> None:
    """Raise IllegalTransition unless `current -> target` is allowed on these grounds."""
    current, target = ItemState(current), ItemState(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"an item cannot go from {current} to {target}")
    if target is S.CLEAN and not grounds.scan_completed:
        raise IllegalTransition("an item becomes clean only after a completed scan")
    if target is S.RELEASED and not grounds.human_decision:
        raise IllegalTransition("an item is released only by a recorded human decision")
    if target is S.CONFIRMED_SYNTHETIC and not grounds.human_decision:
        raise IllegalTransition("only a recorded human decision confirms an item as synthetic")


def state_after_scan(risk: Risk, quarantine_risks: frozenset[Risk]) -> ItemState:
    """Where a completed scan sends an item. Unscannable always quarantines (fail closed)."""
    risk = Risk(risk)
    if risk is Risk.UNSCANNABLE or risk in quarantine_risks:
        return S.QUARANTINED
    return S.CLEAN
