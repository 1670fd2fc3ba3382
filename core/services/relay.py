"""The relay: performs outbox effects on Salesforce, in batches, and records each on the audit trail.

Every handler is safe to run twice for the same entry (see core.adapters.salesforce.effects);
an entry is marked done only by the relay holding its lease, in the transaction that writes
its audit event."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Callable

from simple_salesforce.exceptions import SalesforceError
from sqlalchemy import select

from core.adapters.salesforce import content, effects
from core.adapters.salesforce.gateway import SalesforceGateway, is_transient, soql_ids
from core.bootstrap import App
from core.domain.roles import Actor
from core.models import OutboxEntry, Quarantine
from core.services import outbox
from core.services.outbox import RetryPolicy
from core.faultpoints import crash_point

log = logging.getLogger(__name__)
RELAY = Actor.system("relay")
CASE_EXTERNAL_ID = "RD_Item_Id__c"


class Relay:
    def __init__(self, app: App, gw: SalesforceGateway, *, owner: str, policy: RetryPolicy = RetryPolicy(),
                 dashboard_url: str = "http://localhost:8501", lease: timedelta = timedelta(minutes=2)):
        self.app, self.gw, self.owner, self.policy, self.lease = app, gw, owner, policy, lease
        self.dashboard_url = dashboard_url.rstrip("/")
        self.fields = gw.cfg.fields
        self.handlers: dict[str, Callable[[list[OutboxEntry]], None]] = {
            "sf.quarantine": self._quarantine, "sf.writeback": self._writeback,
            "sf.case": self._cases, "sf.release": self._release}

    def run_once(self) -> int:
        """One pass over every kind. Returns how many entries were attempted."""
        attempted = 0
        for kind, handler in self.handlers.items():
            entries = outbox.claim(self.app.db, kinds=(kind,), owner=self.owner, lease=self.lease)
            if not entries:
                continue
            attempted += len(entries)
            try:
                handler(entries)
            except Exception as error:  # the whole batch failed: each entry retries or parks
                transient = is_transient(error)
                if not isinstance(error, SalesforceError) and not transient:
                    log.exception("relay handler %s failed", kind)
                for entry in entries:
                    outbox.mark_failed(self.app.db, entry, self.owner, f"{type(error).__name__}: {error}",
                                       transient=transient, policy=self.policy)
        return attempted

    def drain(self, max_passes: int = 100) -> None:
        """Run until nothing due is left (tests, benchmarks)."""
        for _ in range(max_passes):
            if not self.run_once():
                return

    # -- bookkeeping ---------------------------------------------------------------------------
    def _finish(self, entries: list[OutboxEntry], action: str, details: Callable[[OutboxEntry], dict],
                failed: dict[int, str] | None = None) -> None:
        failed = failed or {}
        crash_point("after_sf_call")  # the org has the effect; the outbox does not know yet
        with self.app.uow() as uow:
            for entry in entries:
                if entry.id not in failed and outbox.mark_done(uow.session, entry, self.owner):
                    uow.record(RELAY, action, "media_item", entry.item_id, after=details(entry))
            uow.commit()
        for entry in entries:
            if entry.id in failed:
                outbox.mark_failed(self.app.db, entry, self.owner, failed[entry.id], transient=False,
                                   policy=self.policy)

    # -- handlers ------------------------------------------------------------------------------
    def _writeback(self, entries: list[OutboxEntry]) -> None:
        refused = effects.write_verification(self.gw, self.fields, [e.payload for e in entries])
        failed = {e.id: refused[e.payload["version_id"]] for e in entries if e.payload["version_id"] in refused}
        self._finish(entries, "salesforce.verification_written",
                     lambda e: {k: e.payload[k] for k in ("version_id", "status", "risk", "history_id")}, failed)

    def _quarantine(self, entries: list[OutboxEntry]) -> None:
        docs = sorted({e.payload["document_id"] for e in entries})
        links = effects.current_links(self.gw, docs)
        versions = [e.payload["version_id"] for e in entries]
        privacy = {r["Id"]: r.get("SharingPrivacy") for r in self.gw.query(
            f"SELECT Id, SharingPrivacy FROM ContentVersion WHERE Id IN {soql_ids(versions)}")}
        to_cut = {e.id: [link for link in links.get(e.payload["document_id"], [])
                         if content.is_customer_record(link)] for e in entries}
        # Write down what will be removed before removing it: a crash in between loses nothing.
        with self.app.db.writer() as s:
            for e in entries:
                q = s.get(Quarantine, e.payload["quarantine_id"])
                known = {link["entity_id"] for link in q.removed_links}
                q.removed_links = q.removed_links + [link for link in to_cut[e.id] if link["entity_id"] not in known]
                q.sharing_before = q.sharing_before or {"SharingPrivacy": privacy.get(e.payload["version_id"]) or "N"}
                s.add(q)
            s.commit()
        kept = effects.cut_links(self.gw, [link for e in entries for link in to_cut[e.id]])
        refused = effects.set_sharing(self.gw, self.fields, [
            {"version_id": v, "privacy": effects.PRIVATE, "status": "Quarantined"} for v in versions])
        failed = {e.id: refused[e.payload["version_id"]] for e in entries if e.payload["version_id"] in refused}
        owners = {e.id: [link["entity_id"] for link in links.get(e.payload["document_id"], [])
                         if not content.is_customer_record(link)] for e in entries}
        self._finish(entries, "salesforce.quarantine_applied", lambda e: {
            "removed_links": [link["entity_id"] for link in to_cut[e.id] if link["link_id"] not in kept],
            "links_kept": {link["entity_id"]: kept[link["link_id"]] for link in to_cut[e.id] if link["link_id"] in kept},
            "not_customer_links": owners[e.id], "sharing": "private"}, failed)

    def _release(self, entries: list[OutboxEntry]) -> None:
        failed: dict[int, str] = {}
        proofs: dict[int, list[str]] = {}
        waiting: list[OutboxEntry] = []
        for e in entries:
            with self.app.db.reader() as s:
                q = s.get(Quarantine, e.payload["quarantine_id"])
                cutting = s.execute(select(OutboxEntry.id).where(
                    OutboxEntry.idempotency_key == f"sf.quarantine:{q.id}", OutboxEntry.status == "pending")).first()
            if cutting:  # the links are still being cut: restoring now would restore nothing
                waiting.append(e)
                continue
            refused = effects.restore_links(self.gw, e.payload["document_id"], q.removed_links)
            refused.update(effects.set_sharing(self.gw, self.fields, [{
                "version_id": e.payload["version_id"], "privacy": q.sharing_before.get("SharingPrivacy", "N"),
                "status": "Released"}]))
            now = effects.current_links(self.gw, [e.payload["document_id"]])[e.payload["document_id"]]
            problems = effects.links_match(q.removed_links, now) + list(refused.values())
            if problems:
                failed[e.id] = "; ".join(problems)
                continue
            proofs[e.id] = [link["entity_id"] for link in q.removed_links]
            with self.app.db.writer() as s:
                q = s.get(Quarantine, e.payload["quarantine_id"])
                q.status, q.restore_verified = "restored", True
                s.add(q)
                s.commit()
        for e in waiting:
            outbox.mark_failed(self.app.db, e, self.owner, "waiting for the quarantine's links to be cut first",
                               transient=True, policy=self.policy)
        ready = [e for e in entries if e not in waiting]
        self._finish(ready, "salesforce.links_restored",
                     lambda e: {"restored_links": proofs.get(e.id, []), "verified_by_reread": True}, failed)

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
        self._finish(entries, "salesforce.case_upserted", lambda e: {"status": e.payload["status"]}, failed)
