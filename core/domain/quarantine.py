"""What a quarantine goes through: cut links are held until a release restores them, and the
restore is confirmed by reading the links back from the org, or it failed and says so."""
from __future__ import annotations

from enum import StrEnum

from core.domain.errors import IllegalTransition


class QuarantineStatus(StrEnum):
    ACTIVE = "active"                  # links cut (or being cut), sharing private
    RELEASING = "releasing"            # a release is queued: the links are being restored in the org
    RESTORED = "restored"              # every removed link is back, confirmed by reading it again
    RESTORE_FAILED = "restore_failed"  # the org refused the restore: on the trail, shown, retried by an admin

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {QuarantineStatus.ACTIVE: "Held", QuarantineStatus.RELEASING: "Restoring links",
          QuarantineStatus.RESTORED: "Restored", QuarantineStatus.RESTORE_FAILED: "Restore failed"}

Q = QuarantineStatus
ALLOWED: dict[QuarantineStatus, frozenset[QuarantineStatus]] = {
    # active -> restored: a file outside Salesforce has nothing to restore in an org.
    Q.ACTIVE: frozenset({Q.RELEASING, Q.RESTORED}),
    Q.RELEASING: frozenset({Q.RESTORED, Q.RESTORE_FAILED}),
    # An admin sends a failed restore round again (Settings > dead letters).
    Q.RESTORE_FAILED: frozenset({Q.RELEASING}),
    Q.RESTORED: frozenset(),
}


def check_transition(current: QuarantineStatus | str, target: QuarantineStatus | str) -> None:
    current, target = QuarantineStatus(current), QuarantineStatus(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"a quarantine cannot go from {current} to {target}")


def released_status(in_salesforce: bool) -> QuarantineStatus:
    """Where a release takes a quarantine: restoring links in the org, or done at once."""
    return Q.RELEASING if in_salesforce else Q.RESTORED
