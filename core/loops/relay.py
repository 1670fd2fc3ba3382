"""The relay base: claims due outbox entries kind by kind, hands them to the kind's handler, and
records a failure through the outbox command (a retry later, or a dead letter on the audit trail).
The Salesforce relay and the mail relay are relays of this one shape."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from core.commands import outbox
from core.domain.outbox import OutboxStatus, RetryPolicy
from core.domain.roles import Actor
from core.models import OutboxEntry

log = logging.getLogger(__name__)


class OutboxRelay:
    """Subclasses fill `handlers` ({kind: handler(entries)}) and say whether an error is transient.
    A handler records each entry it performs through a command; an exception it lets out fails the
    whole batch it was given."""

    actor: Actor
    batch: int = 200

    def __init__(self, app, *, owner: str, policy: RetryPolicy = RetryPolicy(),
                 lease: timedelta = timedelta(minutes=2)):
        self.app, self.owner, self.policy, self.lease = app, owner, policy, lease
        self.handlers: dict[str, Callable[[list[OutboxEntry]], None]] = {}

    def transient(self, error: Exception) -> bool:
        return False

    def describe(self, error: Exception) -> str:
        """What a failed batch's entries record as their last error."""
        return f"{type(error).__name__}: {error}"

    def run_once(self) -> int:
        """One pass over every kind. Returns how many entries were attempted."""
        attempted = 0
        for kind, handler in self.handlers.items():
            entries = outbox.claim(self.app.db, kinds=(kind,), owner=self.owner, limit=self.batch, lease=self.lease)
            if not entries:
                continue
            attempted += len(entries)
            try:
                handler(entries)
            except Exception as error:  # the whole batch failed: each entry retries or parks
                if not self.transient(error):
                    log.exception("relay handler %s failed: %s", kind, self.describe(error))
                for entry in entries:
                    self.fail(entry, self.describe(error), transient=self.transient(error))
        return attempted

    def drain(self, max_passes: int = 100) -> None:
        """Run until nothing due is left (tests, benchmarks)."""
        for _ in range(max_passes):
            if not self.run_once():
                return

    def fail(self, entry: OutboxEntry, error: str, *, transient: bool) -> OutboxStatus:
        return outbox.record_failure(self.app.uow(), actor=self.actor, entry=entry, owner=self.owner, error=error,
                                     transient=transient, policy=self.policy)
