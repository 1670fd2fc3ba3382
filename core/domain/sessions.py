"""How long a signed-in session lasts, in plain rules: it ends when the person signs out, after
`idle` without an action, after `lifetime` whatever they do, or when their account is deactivated.
The dashboard applies them to every session; local-account sessions keep their clocks on the server
(core.commands.sessions) so every tab of one browser shares them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SessionEnd(StrEnum):
    """Why a session ended: the reason its audit event (auth.signed_out) carries."""

    SIGNED_OUT = "signed out"
    IDLE = "idle timeout"
    LIFETIME = "session lifetime reached"
    DEACTIVATED = "account deactivated"


# Last use is written at most this often (and at most a tenth of the idle limit apart): a click
# seconds after the last costs no write, and an idle session ends at most this much early.
TOUCH_EVERY = timedelta(seconds=15)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def of(cls, *, idle_minutes: float, max_session_hours: float) -> SessionLimits:
        return cls(idle=timedelta(minutes=idle_minutes), lifetime=timedelta(hours=max_session_hours))

    def ended(self, *, started_at: datetime, last_seen_at: datetime, now: datetime) -> SessionEnd | None:
        """Why the session is over by its clocks now, or None while it lasts."""
        if now - last_seen_at > self.idle:
            return SessionEnd.IDLE
        if now - started_at > self.lifetime:
            return SessionEnd.LIFETIME
        return None

    def needs_touch(self, *, last_seen_at: datetime, now: datetime) -> bool:
        return now - last_seen_at >= min(TOUCH_EVERY, self.idle / 10)


def token_digest(token: str) -> str:
    """What the server keeps of a session token: its SHA-256, so a copy of the sessions table signs
    nobody in. The token is 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
