"""The session rules (core/domain/sessions.py): idle before lifetime, exact at the limits, last use
written at most every few seconds, tokens kept only as SHA-256."""
from datetime import UTC, datetime, timedelta

from core.domain.sessions import TOUCH_EVERY, SessionEnd, SessionLimits, token_digest

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LIMITS = SessionLimits.of(idle_minutes=30, max_session_hours=12)


def ended(*, started: timedelta, idle: timedelta, limits: SessionLimits = LIMITS):
    return limits.ended(started_at=NOW - started, last_seen_at=NOW - idle, now=NOW)


def test_a_session_lasts_up_to_its_limits_and_not_a_second_more():
    assert ended(started=timedelta(hours=12), idle=timedelta(minutes=30)) is None
    assert ended(started=timedelta(hours=1), idle=timedelta(minutes=30, seconds=1)) is SessionEnd.IDLE
    assert ended(started=timedelta(hours=12, seconds=1), idle=timedelta(0)) is SessionEnd.LIFETIME


def test_an_idle_session_past_its_lifetime_is_reported_idle_as_before():
    assert ended(started=timedelta(hours=13), idle=timedelta(hours=1)) is SessionEnd.IDLE


def test_last_use_is_written_at_most_every_few_seconds_and_well_within_a_short_idle_limit():
    assert not LIMITS.needs_touch(last_seen_at=NOW - TOUCH_EVERY + timedelta(seconds=1), now=NOW)
    assert LIMITS.needs_touch(last_seen_at=NOW - TOUCH_EVERY, now=NOW)
    short = SessionLimits.of(idle_minutes=1, max_session_hours=1)
    assert short.needs_touch(last_seen_at=NOW - timedelta(seconds=6), now=NOW)


def test_the_reasons_are_the_words_the_audit_trail_has_always_used():
    assert [r.value for r in SessionEnd] == ["signed out", "idle timeout", "session lifetime reached",
                                             "account deactivated"]


def test_a_token_is_kept_as_its_sha256():
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
