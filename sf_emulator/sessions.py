"""Access tokens ("session ids") issued by the token endpoint, with a time to live."""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass


@dataclass
class Session:
    token: str
    user_id: str
    consumer_key: str | None
    expires_at: float


class SessionRegistry:
    def __init__(self, ttl_seconds: float = 7200):
        self.ttl_seconds = ttl_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def issue(self, org_id: str, user_id: str, consumer_key: str | None = None) -> str:
        # Real session ids are the 15-char org id, '!', then an opaque string.
        token = f"{org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions[token] = Session(token, user_id, consumer_key, time.monotonic() + self.ttl_seconds)
        return token

    def resolve(self, token: str | None) -> Session | None:
        with self._lock:
            session = self._sessions.get(token or "")
            if session is None or session.expires_at <= time.monotonic():
                return None
            return session

    def expire(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def expire_all(self) -> int:
        """Expire every live session now (the next call with any of them gets INVALID_SESSION_ID)."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    def active_count(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.expires_at > now)
