"""Salesforce's Pub/Sub API, the subscriber's side: gRPC over TLS (proto/pubsub_api.proto), the OAuth
session as metadata, flow control with num_requested, Avro payloads decoded with the schema GetSchema
returns for the event's schema id (Pub/Sub API Developer Guide: "Subscribe RPC Method", "Event
Deserialization", "Supported Authentication")."""
from __future__ import annotations

import io
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
import grpc

from core.adapters.salesforce.auth import Token
from core.adapters.salesforce.proto import pubsub_api_pb2 as pb
from core.adapters.salesforce.proto import pubsub_api_pb2_grpc as pb_grpc
from core.settings import SalesforceSettings

log = logging.getLogger(__name__)
# The platform event the shipped trigger publishes for each new file version, and its fields
# (salesforce/force-app/main/default/objects/RD_File_Uploaded__e).
FILE_UPLOADED_TOPIC = "/event/RD_File_Uploaded__e"
VERSION_FIELD, DOCUMENT_FIELD = "ContentVersionId__c", "ContentDocumentId__c"
RECORD_FIELD, UPLOADER_FIELD = "FirstPublishLocationId__c", "CreatedById__c"


class SessionRefused(Exception):
    """The Pub/Sub API refused the session (expired, or not this org's): sign in again."""


class ReplayRefused(Exception):
    """The stored replay id is no longer valid (older than the bus keeps, or unknown): start afresh."""


@dataclass(frozen=True)
class FileUploaded:
    content_version_id: str
    content_document_id: str | None
    first_publish_location_id: str | None
    created_by_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Batch:
    """One FetchResponse: its events (none for a keepalive) and where to resume after it."""

    events: list[FileUploaded]
    replay_id: bytes


class PubSubClient:
    """One channel to the Pub/Sub API; `subscribe` runs one Subscribe stream, `close` ends it from
    another thread."""

    def __init__(self, cfg: SalesforceSettings):
        roots = Path(cfg.ca_bundle).read_bytes() if cfg.ca_bundle else None  # None: the system's roots
        self.cfg = cfg
        self.channel = grpc.secure_channel(cfg.pubsub_address, grpc.ssl_channel_credentials(root_certificates=roots))
        self.stub = pb_grpc.PubSubStub(self.channel)
        self._schemas: dict[str, Any] = {}
        self._call: grpc.Future | None = None
        self._lock = threading.Lock()

    def subscribe(self, token: Token, topic: str, replay_id: bytes | None, batch: int,
                  on_ready: Callable[[], None] = lambda: None) -> Iterator[Batch]:
        """Batches from `topic` after `replay_id` (from the newest event when None), until cancelled or
        the stream fails. Asks for `batch` events, and for as many more as each response delivered once
        the caller has handled them."""
        metadata = (("accesstoken", token.access_token), ("instanceurl", token.instance_url),
                    ("tenantid", token.org_id))
        with _refusals(replay_id):
            info = self.stub.GetTopic(pb.TopicRequest(topic_name=topic), metadata=metadata, timeout=self.cfg.timeout_s)
            if not info.can_subscribe:
                raise PermissionError(f"the integration user may not subscribe to {topic}: grant Read on the event")
            self._schema(info.schema_id, metadata)
            fetches: queue.SimpleQueue[pb.FetchRequest | None] = queue.SimpleQueue()
            fetches.put(pb.FetchRequest(
                topic_name=topic, num_requested=batch, replay_id=replay_id or b"",
                replay_preset=pb.ReplayPreset.CUSTOM if replay_id else pb.ReplayPreset.LATEST))
            with self._lock:
                self._call = call = self.stub.Subscribe(iter(fetches.get, None), metadata=metadata)
            on_ready()
            try:
                for response in call:
                    events = [e for e in (self._decode(c, metadata) for c in response.events) if e is not None]
                    last = response.events[-1].replay_id if response.events else response.latest_replay_id
                    yield Batch(events, last)
                    if response.events:
                        fetches.put(pb.FetchRequest(topic_name=topic, num_requested=len(response.events)))
            finally:
                fetches.put(None)
                call.cancel()

    def close(self) -> None:
        """End the stream and any call in flight (from any thread); the client is spent afterwards."""
        with self._lock:
            if self._call is not None:
                self._call.cancel()
        self.channel.close()

    def _schema(self, schema_id: str, metadata) -> Any:
        if schema_id not in self._schemas:
            info = self.stub.GetSchema(pb.SchemaRequest(schema_id=schema_id), metadata=metadata,
                                       timeout=self.cfg.timeout_s)
            self._schemas[schema_id] = fastavro.parse_schema(json.loads(info.schema_json))
        return self._schemas[schema_id]

    def _decode(self, consumed: pb.ConsumerEvent, metadata) -> FileUploaded | None:
        schema = self._schema(consumed.event.schema_id, metadata)
        record = fastavro.schemaless_reader(io.BytesIO(consumed.event.payload), schema, None)
        if not isinstance(record, dict) or not record.get(VERSION_FIELD):
            log.warning("event %s carries no %s; the reconciliation poll will find its file",
                        consumed.event.id, VERSION_FIELD)
            return None
        return FileUploaded(record[VERSION_FIELD], record.get(DOCUMENT_FIELD), record.get(RECORD_FIELD),
                            record.get(UPLOADER_FIELD),
                            datetime.fromtimestamp(record.get("CreatedDate", 0) / 1000, UTC))


class _refusals:
    """Turns the refusals a caller acts on into their own exceptions; other gRPC errors pass."""

    def __init__(self, replay_id: bytes | None):
        self.replay_id = replay_id

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if not isinstance(error, grpc.RpcError) or not hasattr(error, "code"):
            return False
        if error.code() == grpc.StatusCode.UNAUTHENTICATED:
            raise SessionRefused(error.details()) from error
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT and self.replay_id:
            raise ReplayRefused(error.details()) from error
        return False


def describe(error: BaseException) -> str:
    """A short reason for the log and the Live page."""
    if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
        return f"Pub/Sub API {error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"
