"""Salesforce's Pub/Sub API over gRPC with TLS (the same CA as the HTTPS side): GetTopic, GetSchema and
Subscribe, for the platform events on the org's event bus (sf_emulator/eventbus.py).

As the Pub/Sub API Developer Guide describes it: every call carries the session as metadata
(accesstoken, instanceurl, tenantid); Subscribe is pull-based, sending no more events than the
client's FetchRequests asked for (num_requested adds up); the first FetchRequest names the topic and
where to start (LATEST, EARLIEST, or CUSTOM after a replay id); with nothing to deliver the server
sends an empty FetchResponse with the latest replay id as a keepalive (within 270 s). Pub/Sub calls
are not REST API requests: the request log shows them (method GRPC) but never as API calls."""
from __future__ import annotations

import struct
import threading
import time
import uuid
from concurrent import futures

import grpc

from core.adapters.salesforce.proto import pubsub_api_pb2 as pb
from core.adapters.salesforce.proto import pubsub_api_pb2_grpc as pb_grpc

from .emulator import Emulator
from .eventbus import EventSchema

KEEPALIVE_S = 270.0
MAX_BATCH = 100  # events in one FetchResponse


def encode_replay(replay: int) -> bytes:
    return struct.pack(">q", replay)


def decode_replay(raw: bytes) -> int | None:
    return struct.unpack(">q", raw)[0] if len(raw) == 8 else None


class _Credit:
    """What the client has asked for and not yet received, and what wakes the stream."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self.owed = 0
        self.closed = False

    def add(self, n: int) -> None:
        with self._lock:
            self.owed += max(0, n)
        self.wake.set()

    def take(self, n: int) -> None:
        with self._lock:
            self.owed -= n

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class PubSubService(pb_grpc.PubSubServicer):
    def __init__(self, emulator: Emulator, keepalive_s: float = KEEPALIVE_S):
        self.emulator, self.org, self.bus = emulator, emulator.org, emulator.org.events
        self.keepalive_s = keepalive_s
        self.down = threading.Event()  # an outage: calls are refused and open streams end

    # -- calls ---------------------------------------------------------------------------------
    def GetTopic(self, request, context):
        with self._logged("GetTopic", context):
            schema = self._schema(request.topic_name, context)
            return pb.TopicInfo(topic_name=schema.topic, tenant_guid=self.org.org_id, can_publish=True,
                                can_subscribe=True, schema_id=schema.schema_id, rpc_id=_rpc_id())

    def GetSchema(self, request, context):
        with self._logged("GetSchema", context):
            schema = self.bus.schema_by_id(request.schema_id)
            if schema is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no schema with id {request.schema_id!r}")
            return pb.SchemaInfo(schema_json=schema.schema_json, schema_id=schema.schema_id, rpc_id=_rpc_id())

    def Subscribe(self, request_iterator, context):
        with self._logged("Subscribe", context):
            first = next(request_iterator, None)
            if first is None:
                return
            schema = self._schema(first.topic_name, context)
            position = self._start(schema.topic, first, context)
            credit = _Credit()
            credit.add(first.num_requested)
            stop_listening = self.bus.listen(credit.wake.set)
            context.add_callback(credit.close)
            threading.Thread(target=self._more_requests, args=(request_iterator, credit, schema.topic),
                             name="pubsub-fetch", daemon=True).start()
            try:
                yield from self._stream(schema, position, credit, context)
            finally:
                stop_listening()

    # -- the stream ------------------------------------------------------------------------------
    def _stream(self, schema: EventSchema, position: int, credit: _Credit, context):
        last_sent = time.monotonic()
        while context.is_active() and not credit.closed:
            if self.down.is_set():
                context.abort(grpc.StatusCode.UNAVAILABLE, "the Pub/Sub service is unavailable")
            credit.wake.clear()  # before reading, so a publish after the read still wakes us
            batch = self.bus.after(schema.topic, position, min(credit.owed, MAX_BATCH)) if credit.owed > 0 else []
            if batch:
                position = batch[-1]["replay"]
                credit.take(len(batch))
                yield pb.FetchResponse(events=[self._event(schema, e) for e in batch],
                                       latest_replay_id=encode_replay(position), rpc_id=_rpc_id(),
                                       pending_num_requested=credit.owed)
                last_sent = time.monotonic()
                continue
            if time.monotonic() - last_sent >= self.keepalive_s:
                yield pb.FetchResponse(latest_replay_id=encode_replay(position), rpc_id=_rpc_id(),
                                       pending_num_requested=credit.owed)
                last_sent = time.monotonic()
            credit.wake.wait(min(1.0, max(0.0, self.keepalive_s - (time.monotonic() - last_sent))))

    def _more_requests(self, request_iterator, credit: _Credit, topic: str) -> None:
        try:
            for request in request_iterator:
                if request.topic_name and request.topic_name != topic:
                    credit.close()  # a topic cannot change within a stream
                    return
                credit.add(request.num_requested)
        except grpc.RpcError:
            pass  # the client went away
        credit.close()

    def _start(self, topic: str, first, context) -> int:
        """The replay id the stream delivers after."""
        oldest, latest = self.bus.bounds(topic)
        if first.replay_preset == pb.ReplayPreset.EARLIEST:
            return oldest
        if first.replay_preset != pb.ReplayPreset.CUSTOM:
            return latest
        replay = decode_replay(first.replay_id)
        if replay is None or replay > latest:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the replay id is not valid for this topic")
        if replay < oldest:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the replay id is older than the retention window")
        return replay

    def _event(self, schema: EventSchema, stored: dict) -> pb.ConsumerEvent:
        return pb.ConsumerEvent(replay_id=encode_replay(stored["replay"]), event=pb.ProducerEvent(
            id=stored["uuid"], schema_id=schema.schema_id, payload=schema.encode(stored)))

    # -- checks ----------------------------------------------------------------------------------
    def _schema(self, topic: str, context) -> EventSchema:
        schema = self.bus.schema(topic)
        if schema is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"topic {topic!r} does not exist")
        return schema

    def _authenticate(self, context) -> str:
        """The session's user id; refuses a call without a live session of this org."""
        metadata = dict(context.invocation_metadata())
        session = self.org.sessions.resolve(metadata.get("accesstoken"))
        if session is None or metadata.get("tenantid") != self.org.org_id or \
                (metadata.get("instanceurl") or "").rstrip("/") != self.emulator.base_url:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "the session is not valid for this org")
        return session.user_id

    def _logged(self, method: str, context):
        return _LoggedCall(self, method, context)


class _LoggedCall:
    """Logs the call in the emulator's request log (never as an API call), refuses it during an outage
    and without a valid session."""

    def __init__(self, service: PubSubService, method: str, context):
        self.service, self.context = service, context
        self.entry = service.emulator.request_log.begin(time.time(), "GRPC", f"/eventbus.v1.PubSub/{method}", "")

    def __enter__(self):
        try:
            if self.service.down.is_set():
                self.context.abort(grpc.StatusCode.UNAVAILABLE, "the Pub/Sub service is unavailable")
            self.entry.user_id = self.service._authenticate(self.context)
        except BaseException as error:
            self.__exit__(type(error), error, None)
            raise
        return self

    def __exit__(self, kind, error, traceback):
        code = self.context.code() or (grpc.StatusCode.OK if kind is None else grpc.StatusCode.UNKNOWN)
        self.entry.status = code.value[0]
        return False


def _rpc_id() -> str:
    return str(uuid.uuid4())


class PubSubServer:
    """The gRPC server, on its own port beside the HTTPS one."""

    def __init__(self, emulator: Emulator, *, cert_pem: bytes, key_pem: bytes, host: str = "127.0.0.1",
                 port: int = 0, keepalive_s: float = KEEPALIVE_S):
        self.service = PubSubService(emulator, keepalive_s)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="pubsub"))
        pb_grpc.add_PubSubServicer_to_server(self.service, self.server)
        self.port = self.server.add_secure_port(f"{host}:{port}", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
        self.address = f"{host}:{self.port}"

    def start(self) -> None:
        self.server.start()

    def outage(self, down: bool) -> None:
        """Refuse every call, and end open streams, until called with False."""
        (self.service.down.set if down else self.service.down.clear)()
        self.service.bus.wake_listeners()

    def stop(self) -> None:
        self.server.stop(grace=0.5).wait(5)
