"""What the Salesforce relay learns while it cuts and restores a quarantined file's links, recorded
as commands: the links it is about to cut (written down first, so a crash in between loses nothing),
a restore confirmed by reading the links back, or a restore the org refused."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.adapters.uow import UnitOfWork
from core.domain.audit_actions import AuditAction
from core.domain.errors import NotFound
from core.domain.quarantine import QuarantineStatus, check_transition
from core.domain.roles import Action, Actor
from core.models import OutboxEntry, Quarantine


def _load(uow: UnitOfWork, quarantine_id: int) -> Quarantine:
    q = uow.session.get(Quarantine, quarantine_id, with_for_update=True)
    if q is None:
        raise NotFound(f"quarantine {quarantine_id} does not exist")
    return q


@dataclass(frozen=True)
class Cut:
    """What a quarantine is about to remove from one file: its links to customer records, its sharing
    (SharingPrivacy) and its public links (ContentDistribution), each kept to be given back."""

    links: list[dict[str, Any]]
    sharing: str | None
    public_links: list[dict[str, Any]] = field(default_factory=list)


def record_links_to_cut(uow: UnitOfWork, *, actor: Actor, cuts: dict[int, Cut]) -> None:
    """Before cutting: {quarantine id: Cut}. What is already written down is kept once; the sharing is
    the first one seen; public links join those recorded before (their URL dies with them)."""
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        for quarantine_id, cut in sorted(cuts.items()):
            q = _load(uow, quarantine_id)
            known = {link["entity_id"] for link in q.removed_links}
            new = [link for link in cut.links if link["entity_id"] not in known]
            before = dict(q.sharing_before or {"SharingPrivacy": cut.sharing or "N"})
            seen = {p["Id"] for p in before.get("public_links", [])}
            public = [p for p in cut.public_links if p["Id"] not in seen]
            if not new and not public and q.sharing_before:
                continue
            q.removed_links = q.removed_links + new
            q.sharing_before = {**before, "public_links": before.get("public_links", []) + public}
            uow.session.add(q)
            uow.record(actor, AuditAction.SALESFORCE_LINKS_RECORDED, "media_item", q.item_id,
                       after={"quarantine_id": q.id, "links": [link["entity_id"] for link in new],
                              "sharing_before": before.get("SharingPrivacy"),
                              "public_links": [p["DistributionPublicUrl"] for p in public]})
        uow.commit()


def confirm_restored(uow: UnitOfWork, *, actor: Actor, entry: OutboxEntry, owner: str,
                     restored: list[str], public_links: Sequence[str] = ()) -> bool:
    """The release's links are back, read again from the org: the quarantine is over and the release
    entry done, in one transaction. False when another relay holds the entry now."""
    from core.commands.outbox import complete

    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        q = _load(uow, entry.payload["quarantine_id"])
        if not complete(uow, entry, owner):
            return False
        if q.status != QuarantineStatus.RESTORED:
            check_transition(q.status, QuarantineStatus.RESTORED)
            q.status, q.restore_verified = QuarantineStatus.RESTORED, True
            uow.session.add(q)
        uow.record(actor, AuditAction.SALESFORCE_LINKS_RESTORED, "media_item", q.item_id,
                   after={"quarantine_id": q.id, "restored_links": restored, "verified_by_reread": True,
                          "public_links_made_again": list(public_links)})
        uow.commit()
        return True


def restore_failed(uow: UnitOfWork, *, actor: Actor, quarantine_id: int, problems: list[str]) -> None:
    """The org did not take the links back: the quarantine says so (the file is not released there),
    on the audit trail, until an admin sends the release round again."""
    with uow:
        actor = uow.authorize(actor, Action.EFFECT_RECORD)
        q = _load(uow, quarantine_id)
        if q.status == QuarantineStatus.RESTORE_FAILED:
            return
        check_transition(q.status, QuarantineStatus.RESTORE_FAILED)
        q.status = QuarantineStatus.RESTORE_FAILED
        uow.session.add(q)
        uow.record(actor, AuditAction.SALESFORCE_RESTORE_FAILED, "media_item", q.item_id, outcome="failure",
                   reason="; ".join(problems)[:500], after={"quarantine_id": q.id, "problems": problems[:20]})
        uow.commit()
