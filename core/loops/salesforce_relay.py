"""The Salesforce relay: performs outbox effects on the org in batches (verdict write-back,
quarantine, release, review Cases) and records each through a command, with its audit event.

Every handler is safe to run twice for the same entry (see core.adapters.salesforce.effects); an
entry is marked done only by the relay holding its lease, in the transaction that writes its event.
A release writes "Released" in the org only after the restored links were read back."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from core.adapters.salesforce import effects
from core.adapters.salesforce.access import CASE_EXTERNAL_ID, explain_error
from core.adapters.salesforce.gateway import SalesforceGateway, is_transient, soql_ids
from core.commands import outbox, quarantine
from core.domain.audit_actions import AuditAction
from core.domain.outbox import OutboxStatus, RetryPolicy
from core.domain.records import is_customer_record
from core.domain.roles import Actor
from core.domain.salesforce import SalesforceStatus
from core.faultpoints import crash_point
from core.loops.relay import OutboxRelay
from core.models import OutboxEntry, Quarantine

RELAY = Actor.system("relay")


class SalesforceRelay(OutboxRelay):
    actor = RELAY

    def __init__(self, app, gw: SalesforceGateway, *, owner: str, policy: RetryPolicy = RetryPolicy(),
                 dashboard_url: str = "http://localhost:8501", lease: timedelta = timedelta(minutes=2)):
        super().__init__(app, owner=owner, policy=policy, lease=lease)
        self.gw, self.fields, self.dashboard_url = gw, gw.cfg.fields, dashboard_url.rstrip("/")
        self.handlers = {"sf.quarantine": self._quarantine, "sf.writeback": self._writeback,
                         "sf.case": self._cases, "sf.release": self._release}

    def transient(self, error: Exception) -> bool:
        return is_transient(error)

    def describe(self, error: Exception) -> str:
        return explain_error(error)  # names the permission or field the org found missing

    # -- bookkeeping ---------------------------------------------------------------------------
    def _finish(self, entries: list[OutboxEntry], action: AuditAction, details: Callable[[OutboxEntry], dict],
                failed: dict[int, str] | None = None) -> None:
        failed = failed or {}
        crash_point("after_sf_call")  # the org has the effect; the outbox does not know yet
        outbox.record_effects(self.app.uow(), actor=RELAY, entries=[e for e in entries if e.id not in failed],
                              owner=self.owner, action=action, details=details)
        for entry in entries:
            if entry.id in failed:
                self.fail(entry, failed[entry.id], transient=False)

    # -- handlers ------------------------------------------------------------------------------
    def _writeback(self, entries: list[OutboxEntry]) -> None:
        refused = effects.write_verification(self.gw, self.fields, [e.payload for e in entries])
        failed = {e.id: refused[e.payload["version_id"]] for e in entries if e.payload["version_id"] in refused}
        self._finish(entries, AuditAction.SALESFORCE_VERIFICATION_WRITTEN,
                     lambda e: {k: e.payload[k] for k in ("version_id", "status", "risk", "history_id")}, failed)

    def _quarantine(self, entries: list[OutboxEntry]) -> None:
        docs = sorted({e.payload["document_id"] for e in entries})
        links = effects.current_links(self.gw, docs)
        versions = [e.payload["version_id"] for e in entries]
        privacy = {r["Id"]: r.get("SharingPrivacy") for r in self.gw.query(
            f"SELECT Id, SharingPrivacy FROM ContentVersion WHERE Id IN {soql_ids(versions)}")}
        to_cut = {e.id: [link for link in links.get(e.payload["document_id"], []) if is_customer_record(link)]
                  for e in entries}
        public = effects.public_links(self.gw, docs)
        # Write down what will be removed before removing it: a crash in between loses nothing.
        quarantine.record_links_to_cut(self.app.uow(), actor=RELAY, cuts={
            e.payload["quarantine_id"]: quarantine.Cut(to_cut[e.id], privacy.get(e.payload["version_id"]),
                                                       public.get(e.payload["document_id"], [])) for e in entries})
        kept = effects.cut_links(self.gw, [link for e in entries for link in to_cut[e.id]])
        unrevoked = effects.revoke_public_links(self.gw, [p for e in entries for p in public.get(e.payload["document_id"], [])])
        refused = effects.set_sharing(self.gw, self.fields, [
            {"version_id": v, "privacy": effects.PRIVATE, "status": SalesforceStatus.QUARANTINED} for v in versions])
        failed = {e.id: refused[e.payload["version_id"]] for e in entries if e.payload["version_id"] in refused}
        for e in entries:  # a public link still open is a hole in the quarantine: retried, then a dead letter
            still = [unrevoked[p["Id"]] for p in public.get(e.payload["document_id"], []) if p["Id"] in unrevoked]
            if still and e.id not in failed:
                failed[e.id] = "public link not revoked: " + "; ".join(still)
        owners = {e.id: [link["entity_id"] for link in links.get(e.payload["document_id"], [])
                         if not is_customer_record(link)] for e in entries}
        self._finish(entries, AuditAction.SALESFORCE_QUARANTINE_APPLIED, lambda e: {
            "removed_links": [link["entity_id"] for link in to_cut[e.id] if link["link_id"] not in kept],
            "links_kept": {link["entity_id"]: kept[link["link_id"]] for link in to_cut[e.id] if link["link_id"] in kept},
            "not_customer_links": owners[e.id], "sharing": "private",
            "public_links_revoked": [p["DistributionPublicUrl"] for p in public.get(e.payload["document_id"], [])]},
            failed)

    def _release(self, entries: list[OutboxEntry]) -> None:
        """Restore the links first, read them back, and only then tell the org "Released". A restore
        the org refuses is a failed restore, on the trail and on screen; the org never reads Released."""
        for e in entries:
            with self.app.db.reader() as s:
                q = s.get(Quarantine, e.payload["quarantine_id"])
                cutting = s.execute(select(OutboxEntry.id).where(
                    OutboxEntry.idempotency_key == f"sf.quarantine:{q.id}",
                    OutboxEntry.status == OutboxStatus.PENDING)).first()
            if cutting:  # the links are still being cut: restoring now would restore nothing
                self.fail(e, "waiting for the quarantine's links to be cut first", transient=True)
                continue
            refused = effects.restore_links(self.gw, e.payload["document_id"], q.removed_links)
            now = effects.current_links(self.gw, [e.payload["document_id"]])[e.payload["document_id"]]
            problems = effects.links_match(q.removed_links, now) + list(refused.values())
            remade: list[str] = []
            if not problems:
                remade, problems = effects.remake_public_links(self.gw, q.sharing_before.get("public_links", []))
            if not problems:
                problems = list(effects.set_sharing(self.gw, self.fields, [{
                    "version_id": e.payload["version_id"], "privacy": q.sharing_before.get("SharingPrivacy", "N"),
                    "status": SalesforceStatus.RELEASED}]).values())
            if problems:
                if self.fail(e, "; ".join(problems), transient=False) == OutboxStatus.DEAD:
                    quarantine.restore_failed(self.app.uow(), actor=RELAY, quarantine_id=q.id, problems=problems)
                continue
            crash_point("after_sf_call")
            quarantine.confirm_restored(self.app.uow(), actor=RELAY, entry=e, owner=self.owner,
                                        restored=[link["entity_id"] for link in q.removed_links], public_links=remade)

    def _cases(self, entries: list[OutboxEntry]) -> None:
        cases = []
        for e in entries:
            p = e.payload
            cases.append({CASE_EXTERNAL_ID: str(p["item_id"]), "Subject": f"Response Desk: review {p['file_name']}"[:255],
                          "Status": p["status"], "Origin": "Response Desk", "Priority": "High",
                          "Description": f"{p['summary']}\n\nOpen in Response Desk: "
                                         f"{self.dashboard_url}/review?item={p['item_id']}"})
        refused = effects.upsert_cases(self.gw, cases, CASE_EXTERNAL_ID)
        failed = {e.id: refused[str(e.payload["item_id"])] for e in entries if str(e.payload["item_id"]) in refused}
        self._finish(entries, AuditAction.SALESFORCE_CASE_UPSERTED, lambda e: {"status": e.payload["status"]}, failed)
