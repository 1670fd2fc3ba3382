import pytest

from core.domain.errors import IllegalTransition
from core.domain.lifecycle import ALLOWED, Grounds, ItemState, Risk, check_transition, state_after_scan

S = ItemState
ALL_PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize("current,target", ALL_PAIRS)
def test_only_listed_transitions_are_allowed(current, target):
    grounds = Grounds(scan_completed=True, human_decision=True)
    if target in ALLOWED[current]:
        check_transition(current, target, grounds)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target, grounds)


def test_clean_needs_a_completed_scan():
    with pytest.raises(IllegalTransition, match="completed scan"):
        check_transition(S.SCANNING, S.CLEAN, Grounds(human_decision=True))
    check_transition(S.SCANNING, S.CLEAN, Grounds(scan_completed=True))


@pytest.mark.parametrize("target", [S.RELEASED, S.CONFIRMED_SYNTHETIC])
def test_decisions_need_a_human(target):
    with pytest.raises(IllegalTransition, match="human decision"):
        check_transition(S.IN_REVIEW, target, Grounds(scan_completed=True))
    check_transition(S.IN_REVIEW, target, Grounds(human_decision=True))


def test_unscanned_items_cannot_reach_review_or_release():
    for start in (S.RECEIVED, S.SCANNING):
        for target in (S.IN_REVIEW, S.RELEASED, S.CONFIRMED_SYNTHETIC):
            with pytest.raises(IllegalTransition):
                check_transition(start, target, Grounds(scan_completed=True, human_decision=True))


def test_unscannable_always_quarantines_even_if_not_configured():
    assert state_after_scan(Risk.UNSCANNABLE, frozenset()) is S.QUARANTINED
    assert state_after_scan(Risk.HIGH, frozenset({Risk.HIGH})) is S.QUARANTINED
    assert state_after_scan(Risk.MEDIUM, frozenset({Risk.HIGH})) is S.CLEAN
    assert state_after_scan(Risk.LOW, frozenset({Risk.HIGH, Risk.MEDIUM})) is S.CLEAN
