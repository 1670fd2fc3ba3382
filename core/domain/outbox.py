"""Effects on the outside world (Salesforce, mail) wait in the outbox until a relay performs them:
their statuses, and how long a failed one waits before the next attempt."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # out of attempts or refused for good: a dead letter an admin can send round again


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 2.0
    cap_s: float = 600.0

    def delay(self, attempts: int, rng: random.Random = random.Random()) -> timedelta:
        """Full jitter: uniform between 0 and base * 2^attempts, capped."""
        return timedelta(seconds=rng.uniform(0, min(self.cap_s, self.base_s * 2 ** attempts)))

    def gives_up(self, attempts: int, *, transient: bool) -> bool:
        """A refusal for good is dead at once; a transient failure after the last attempt."""
        return not transient or attempts >= self.max_attempts
