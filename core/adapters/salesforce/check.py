"""`python -m core salesforce check`: after installation, prove against the org itself that the integration
user can do what Response Desk does, and name what is missing when it cannot.

1. sign-in: the connected app lets the integration user in (JWT needs it pre-authorised);
2. permissions: Query All Files, View All Data, Modify All Data (UserPermissionAccess);
3. fields: every field Response Desk writes is deployed, visible and editable (describe);
4. files through records: the newest file in the org and the records it is linked to, read back;
5. write every field: on a throwaway file of its own, every verdict field and a history row, read back;
6. cut and restore a link: the throwaway file linked to the history row, the link cut and restored with
   the code the relay uses, then compared link by link;
7. events: the throwaway file's upload event received over the Pub/Sub API (when this installation
   subscribes to events);
8. clean up: the throwaway file and history row deleted.
"""
from __future__ import annotations

import base64
import importlib.util
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.adapters.salesforce import access, effects
from core.adapters.salesforce.gateway import SalesforceGateway, soql_id
from core.domain.salesforce import SalesforceStatus
from core.settings import SalesforceSettings

OK, FAIL, SKIPPED = "ok", "FAIL", "not checked"
SCRATCH_NAME = "response-desk-installation-check.txt"
EVENT_WAIT_S = 10.0


class Problem(Exception):
    """A step found something missing; the message names it."""


@dataclass
class Step:
    name: str
    outcome: str
    detail: str


@dataclass
class CheckReport:
    target: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.outcome != FAIL for step in self.steps)

    def lines(self) -> list[str]:
        lines = [f"Salesforce installation check: {self.target}"]
        lines += [f"  {step.outcome:<12} {step.name}: {step.detail}" for step in self.steps]
        failed = sum(step.outcome == FAIL for step in self.steps)
        lines.append("Result: everything Response Desk does works" if self.ok else f"Result: {failed} problem(s)")
        return lines


def _step(name: str, action: Callable[[], str]) -> Step:
    try:
        return Step(name, OK, action())
    except Problem as problem:
        return Step(name, FAIL, str(problem))
    except Exception as error:  # the org refused something: say what and why
        return Step(name, FAIL, access.explain_error(error))


def run_check(cfg: SalesforceSettings, *, event_wait_s: float = EVENT_WAIT_S) -> CheckReport:
    gw = SalesforceGateway(cfg)
    report = CheckReport(f"{cfg.login_url} as {cfg.username or 'the client credentials run-as user'} ({cfg.auth})")
    report.steps.append(_step("sign-in", lambda: f"signed in to {gw.org_base}"))
    if not report.ok:
        return report
    report.steps += [_step("permissions", lambda: _permissions(gw)),
                     _step("fields", lambda: _fields(gw)),
                     _step("files through records", lambda: _files_through_records(gw))]
    scratch = Scratch(gw)
    events = EventWatch.start(gw) if EventWatch.available() else None
    try:
        created = _step("write every field", lambda: scratch.create_and_write(events, event_wait_s))
        report.steps.append(created)
        if created.outcome == OK:
            report.steps.append(_step("cut and restore a link", scratch.cut_and_restore))
        else:
            report.steps.append(Step("cut and restore a link", SKIPPED, "no throwaway file to try it on"))
        report.steps.append(_events_step(events, scratch))
    finally:
        if events is not None:
            events.close()
        report.steps.append(_step("clean up", scratch.remove))
    return report


def _permissions(gw: SalesforceGateway) -> str:
    missing = access.missing_permissions(gw)
    if missing:
        raise Problem("; ".join(missing))
    return "Query All Files, View All Data and Modify All Data granted"


def _fields(gw: SalesforceGateway) -> str:
    problems = access.field_problems(gw, gw.cfg.fields)
    if problems:
        raise Problem("; ".join(problems))
    written = access.written_fields(gw.cfg.fields)
    return "; ".join(f"{sobject}: {', '.join(names)}" for sobject, (names, _) in written.items()) + " editable"


def _files_through_records(gw: SalesforceGateway) -> str:
    newest = next(iter(gw.query("SELECT Id, ContentDocumentId FROM ContentVersion WHERE IsLatest = true "
                                "ORDER BY SystemModstamp DESC LIMIT 1")), None)
    if newest is None:
        return "the org has no file yet: nothing to read back (the permissions above decide what ingest will see)"
    links = effects.current_links(gw, [newest["ContentDocumentId"]])[newest["ContentDocumentId"]]
    records = [f"{link['entity_type']} {link['entity_name']}" for link in links if link["entity_type"] != "User"]
    return (f"newest file {newest['Id']} read with its {len(links)} link(s)"
            + (f", to {', '.join(records)}" if records else ""))


class Scratch:
    """The throwaway file the check writes on, links and deletes, and its history row."""

    def __init__(self, gw: SalesforceGateway):
        self.gw, self.fields = gw, gw.cfg.fields
        self.version_id: str | None = None
        self.document_id: str | None = None
        self.history_key = f"rd-check-{uuid.uuid4().hex[:12]}"
        self.history_id: str | None = None

    def upload(self) -> str:
        data = base64.b64encode(b"Response Desk installation check: safe to delete.\n").decode()
        values = {"Title": "Response Desk installation check (deleted by the check)", "PathOnClient": SCRATCH_NAME,
                  "VersionData": data}
        if self.document_id:
            values["ContentDocumentId"] = self.document_id  # a new version of the same file
        self.version_id = self.gw.create("ContentVersion", values)
        row = next(iter(self.gw.query(f"SELECT ContentDocumentId FROM ContentVersion WHERE Id = {soql_id(self.version_id)}")))
        self.document_id = row["ContentDocumentId"]
        return self.version_id

    def create_and_write(self, events: EventWatch | None, wait_s: float) -> str:
        self.upload()
        if events is not None:
            events.expect(self, wait_s)
        write = {"version_id": self.version_id, "status": SalesforceStatus.VERIFIED, "risk": "low", "score": 0.01,
                 "verified_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "sha256": "0" * 64,
                 "detectors": "installation-check@1", "source": "installation check", "history_id": self.history_key}
        refused = effects.write_verification(self.gw, self.fields, [write])
        if refused:
            raise Problem(refused[self.version_id])
        history = self.fields.history_object
        rows = list(self.gw.query(f"SELECT Id FROM {history} WHERE {self.fields.history_external_id} = "
                                  f"'{self.history_key}'"))
        version = next(iter(self.gw.query(f"SELECT {self.fields.status} FROM ContentVersion "
                                          f"WHERE Id = {soql_id(self.version_id)}")))
        if not rows or version[self.fields.status] != SalesforceStatus.VERIFIED:
            raise Problem("the org accepted the writes but does not read them back")
        self.history_id = rows[0]["Id"]
        return f"verdict fields on throwaway file {self.version_id} and history row {self.history_id} written and read back"

    def cut_and_restore(self) -> str:
        """The relay's own code: restore_links creates a missing link, cut_links deletes one."""
        link = {"entity_id": self.history_id, "share_type": "V", "visibility": "AllUsers"}
        refused = effects.restore_links(self.gw, self.document_id, [link])
        if refused:
            raise Problem(f"linking the file: {'; '.join(refused.values())}")
        kept = effects.cut_links(self.gw, [e for e in self._links() if e["entity_id"] == self.history_id])
        if kept or any(e["entity_id"] == self.history_id for e in self._links()):
            raise Problem(f"cutting the link: {'; '.join(kept.values()) or 'the link is still there'}")
        refused = effects.restore_links(self.gw, self.document_id, [link])
        problems = list(refused.values()) + effects.links_match([link], self._links())
        if problems:
            raise Problem(f"restoring the link: {'; '.join(problems)}")
        return f"link to {self.history_id} cut, restored and read back ({link['share_type']}/{link['visibility']})"

    def _links(self) -> list[dict]:
        return effects.current_links(self.gw, [self.document_id])[self.document_id]

    def remove(self) -> str:
        left = []
        for sobject, record_id in (("ContentDocument", self.document_id), (self.fields.history_object, self.history_id)):
            if record_id is None:
                continue
            try:
                self.gw.delete(sobject, record_id)
            except Exception as error:
                left.append(f"{sobject} {record_id} ({access.explain_error(error)}): delete it by hand")
        if left:
            raise Problem("; ".join(left))
        return "throwaway file and history row deleted" if self.document_id else "nothing was created"


class EventWatch:
    """A Pub/Sub subscription to the upload event, opened before the throwaway file is uploaded."""

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("core.adapters.salesforce.pubsub") is not None

    @classmethod
    def start(cls, gw: SalesforceGateway) -> EventWatch:
        from core.adapters.salesforce import pubsub

        watch = cls(gw, pubsub)
        watch.thread.start()
        watch.ready.wait(gw.cfg.timeout_s)
        return watch

    def __init__(self, gw: SalesforceGateway, pubsub):
        self.pubsub, self.client = pubsub, pubsub.PubSubClient(gw.cfg)
        self.seen: queue.SimpleQueue = queue.SimpleQueue()
        self.ready = threading.Event()
        self.received: str | None = None
        self.waited_s = 0.0
        self.thread = threading.Thread(target=self._listen, args=(gw,), name="check-events", daemon=True)

    def _listen(self, gw: SalesforceGateway) -> None:
        try:
            for batch in self.client.subscribe(gw.session(), self.pubsub.FILE_UPLOADED_TOPIC, None, 100,
                                               on_ready=self.ready.set):
                for event in batch.events:
                    self.seen.put(event.content_version_id)
        except Exception as error:
            self.seen.put(error)
        finally:
            self.ready.set()

    def expect(self, scratch: Scratch, wait_s: float) -> None:
        """Wait for the upload event of the scratch file. A subscription asks for events after the
        newest one, so an upload in the instant before the org has opened the stream is not delivered:
        one new version of the file is uploaded and awaited before the events step fails."""
        self.waited_s = wait_s
        for attempt in range(2):
            if attempt:
                scratch.upload()
            outcome = self._wait_for(scratch.version_id, wait_s)
            if outcome is not None:
                self.received = outcome
                return

    def _wait_for(self, version_id: str, wait_s: float) -> str | None:
        try:
            while True:
                got = self.seen.get(timeout=wait_s)
                if isinstance(got, Exception):
                    self.received = self.pubsub.describe(got)
                    self.seen.put(got)
                    return None
                if got == version_id:
                    return version_id
        except queue.Empty:
            return None

    def close(self) -> None:
        self.client.close()


def _events_step(events: EventWatch | None, scratch: Scratch) -> Step:
    if events is None:
        return Step("events", SKIPPED, "this installation does not subscribe to upload events")
    if scratch.version_id is None:
        return Step("events", SKIPPED, "no throwaway file was uploaded")
    if events.received == scratch.version_id:
        return Step("events", OK, f"the upload event of {scratch.version_id} arrived over the Pub/Sub API")
    why = events.received or (f"no RD_File_Uploaded__e for {scratch.version_id} within {events.waited_s:g} s: is the "
                              "ResponseDeskContentVersion trigger deployed and active, and may the integration user "
                              f"read the event ({access.INTEGRATION_SET})?")
    return Step("events", FAIL, why)
