"""The org's event bus: platform events as the shipped metadata defines them, published inside the
org's transaction (so a rolled-back upload publishes nothing: PublishAfterCommit), kept for 72 hours
with a replay id each, and read by the Pub/Sub API (sf_emulator/pubsub.py).

The stand-in for the shipped Apex: while the upload trigger is deployed, every new ContentVersion
publishes RD_File_Uploaded__e, as ResponseDeskContentVersion does in a real org."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import fastavro
from defusedxml import ElementTree

from .store import RecordStore

OBJECTS_DIR = Path(__file__).resolve().parent.parent / "salesforce" / "force-app" / "main" / "default" / "objects"
FILE_UPLOADED = "RD_File_Uploaded__e"
# High-volume platform events stay on the bus for 72 hours (Platform Events Developer Guide,
# "Platform Event Allocations" / "Event Retention"); a replay id older than that is gone.
RETENTION = timedelta(hours=72)
_NS = "{http://soap.sforce.com/2006/04/metadata}"
# How Salesforce types a platform event's custom fields in the event's Avro schema (Pub/Sub API
# Developer Guide, "Event Schema"): nullable, with the field's type after the null.
_AVRO_TYPES = {"Text": "string", "LongTextArea": "string", "Number": "double", "Checkbox": "boolean",
               "DateTime": "long", "Date": "int"}


@dataclass(frozen=True)
class EventSchema:
    event: str
    schema_json: str
    schema_id: str
    fields: tuple[str, ...]

    @property
    def topic(self) -> str:
        return f"/event/{self.event}"

    def encode(self, stored: dict) -> bytes:
        """The event as Avro binary, the way the Pub/Sub API carries its payload."""
        record = {"CreatedDate": stored["created_ms"], "CreatedById": stored["created_by"],
                  **{name: stored["fields"].get(name) for name in self.fields}}
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(json.loads(self.schema_json)), record)
        return buffer.getvalue()


def load_schema(event: str, objects_dir: Path = OBJECTS_DIR) -> EventSchema:
    """The event's Avro schema, built from its deployed metadata (the object's fields folder)."""
    folder = objects_dir / event
    if not (folder / f"{event}.object-meta.xml").is_file():
        raise KeyError(f"no platform event {event} in {objects_dir}")
    custom = []
    for path in sorted((folder / "fields").glob("*.field-meta.xml")):
        root = ElementTree.parse(path).getroot()
        name, kind = root.findtext(f"{_NS}fullName"), root.findtext(f"{_NS}type")
        custom.append({"name": name, "type": ["null", _AVRO_TYPES[kind]], "default": None, "doc": f"Data:{kind}"})
    schema = {"name": event, "namespace": "com.sforce.eventbus", "type": "record", "fields": [
        {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
        {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"}, *custom]}
    text = json.dumps(schema, separators=(",", ":"))
    # A schema id is a fingerprint of the schema: the same fields give the same id.
    fingerprint = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode()[:22]
    return EventSchema(event, text, fingerprint, tuple(f["name"] for f in custom))


class EventBus:
    def __init__(self, store: RecordStore, clock: Callable[[], datetime]):
        self.store, self.clock = store, clock
        self._schemas: dict[str, EventSchema] = {}
        self._listeners: set[Callable[[], None]] = set()
        self._listeners_lock = threading.Lock()

    # deployment
    def deploy_upload_trigger(self) -> None:
        """Deploy RD_File_Uploaded__e and the trigger that publishes it for each new file version."""
        self.deploy_event(FILE_UPLOADED)
        self.store.set_meta("upload_trigger", True)

    def remove_upload_trigger(self) -> None:
        self.store.set_meta("upload_trigger", False)

    def deploy_event(self, event: str) -> None:
        load_schema(event)  # refuses an event the metadata does not define
        with self.store.lock:
            deployed = self.store.meta("platform_events", [])
            if event not in deployed:
                self.store.set_meta("platform_events", [*deployed, event])

    def schema(self, topic: str) -> EventSchema | None:
        event = topic.removeprefix("/event/")
        if not topic.startswith("/event/") or event not in self.store.meta("platform_events", []):
            return None
        if event not in self._schemas:
            self._schemas[event] = load_schema(event)
        return self._schemas[event]

    def schema_by_id(self, schema_id: str) -> EventSchema | None:
        return next((s for s in map(self.schema, self.topics()) if s and s.schema_id == schema_id), None)

    def topics(self) -> list[str]:
        return [f"/event/{name}" for name in self.store.meta("platform_events", [])]

    # publishing, inside the caller's transaction
    def file_uploaded(self, version: dict, user_id: str) -> None:
        if self.store.meta("upload_trigger", False):
            self.publish(FILE_UPLOADED, user_id, {
                "ContentVersionId__c": version["Id"], "ContentDocumentId__c": version["ContentDocumentId"],
                "FirstPublishLocationId__c": version.get("FirstPublishLocationId"), "CreatedById__c": user_id})

    def publish(self, event: str, user_id: str, fields: dict) -> int:
        now = self.clock()
        with self.store.transaction():
            stream = self.store.meta(f"events:{event}", {"last": 0, "events": []})
            horizon = (now - RETENTION).timestamp() * 1000
            replay = stream["last"] + 1
            kept = [e for e in stream["events"] if e["created_ms"] >= horizon]
            kept.append({"replay": replay, "uuid": str(uuid.uuid4()), "created_ms": int(now.timestamp() * 1000),
                         "created_by": user_id, "fields": fields})
            self.store.set_meta(f"events:{event}", {"last": replay, "events": kept})
        # Subscribers read under the store's lock, so they see the event only once the upload commits.
        self.wake_listeners()
        return replay

    # reading, for the Pub/Sub API
    def after(self, topic: str, replay: int, limit: int) -> list[dict]:
        with self.store.lock:
            stream = self.store.meta(f"events:{topic.removeprefix('/event/')}", {"events": []})
            return [e for e in stream["events"] if e["replay"] > replay][:limit]

    def bounds(self, topic: str) -> tuple[int, int]:
        """(the replay id before the oldest retained event, the latest replay id) of a topic."""
        with self.store.lock:
            stream = self.store.meta(f"events:{topic.removeprefix('/event/')}", {"last": 0, "events": []})
            oldest = stream["events"][0]["replay"] - 1 if stream["events"] else stream["last"]
            return oldest, stream["last"]

    def listen(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` after each publish; returns the function that stops it."""
        with self._listeners_lock:
            self._listeners.add(wake)
        return lambda: self._forget(wake)

    def _forget(self, wake: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.discard(wake)

    def wake_listeners(self) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for wake in listeners:
            wake()
