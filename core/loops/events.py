"""Event-driven ingest: the worker's subscription to RD_File_Uploaded__e, which the org's trigger
publishes for each new file version. Each event's version is registered at once, and the replay id
of the last event handled is kept in the database, so a restarted worker resumes where it stopped
(events are kept 72 hours). A dropped subscription reconnects after a jittered, doubling delay;
while it is down the reconciliation poll runs at its fast interval, so nothing waits long."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.adapters import worker_state
from core.adapters.salesforce.gateway import SalesforceGateway
from core.adapters.salesforce.pubsub import (
    FILE_UPLOADED_TOPIC,
    Batch,
    PubSubClient,
    ReplayRefused,
    SessionRefused,
    describe,
)
from core.clock import utcnow
from core.domain.outbox import RetryPolicy
from core.loops import ingest

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App

log = logging.getLogger(__name__)


class FileEvents:
    """Run `run()` in its own thread with its own gateway; `interrupt()` ends a stream from outside."""

    def __init__(self, app: App, gw: SalesforceGateway, *, stop: threading.Event,
                 on_down: Callable[[], None] = lambda: None):
        self.app, self.gw, self.stop, self.on_down = app, gw, stop, on_down
        self.cfg = app.settings.ingest
        self.flowing = threading.Event()  # subscribed now
        self.registered = 0
        self._client: PubSubClient | None = None
        self._renew_session = False
        self._from_latest = False  # the stored replay id was refused: start at the newest event

    def run(self) -> None:
        reconnect = RetryPolicy(base_s=1.0, cap_s=self.cfg.reconnect_max_s)
        failures = 0
        while not self.stop.is_set():
            try:
                delivered = self._subscribe()
            except Exception as error:
                delivered = False
                if not self.stop.is_set():
                    self._down(error)
            else:
                self._down(None)
            failures = 0 if delivered else failures + 1
            self.stop.wait(reconnect.delay(failures).total_seconds())
        self.flowing.clear()

    def interrupt(self) -> None:
        client = self._client
        if client is not None:
            client.close()

    def _subscribe(self) -> bool:
        """One Subscribe stream, until it ends; True when it delivered anything."""
        token = self.gw.session(renew=self._renew_session)
        self._renew_session = False
        replay = None if self._from_latest else worker_state.replay_position(self.app.db, FILE_UPLOADED_TOPIC)
        self._client = client = PubSubClient(self.gw.cfg)
        delivered = False
        try:
            for batch in client.subscribe(token, FILE_UPLOADED_TOPIC, replay, self.cfg.event_batch, self._up):
                self._handle(batch)
                delivered = True
            return delivered
        except SessionRefused:
            self._renew_session = True
            raise
        except ReplayRefused:
            self._from_latest = True  # what the lost stretch held, the poll finds
            raise
        finally:
            self._client = None
            client.close()

    def _handle(self, batch: Batch) -> None:
        if batch.events:
            ids = [event.content_version_id for event in batch.events]
            report = ingest.register_versions(self.app, self.gw, ids)
            ingest.hold_under_pressure(self.app, self.gw, report.registered)
            self.registered += len(report.registered)
            log.info("events: %d new file(s), %d already held", len(report.registered), report.already_held)
        if batch.replay_id:
            at = batch.events[-1].created_at if batch.events else utcnow()
            worker_state.save_replay_position(self.app.db, FILE_UPLOADED_TOPIC, batch.replay_id, at)
            self._from_latest = False

    def _up(self) -> None:
        self.flowing.set()
        worker_state.note_subscription(self.app.db, FILE_UPLOADED_TOPIC, None)
        log.info("subscribed to %s", FILE_UPLOADED_TOPIC)

    def _down(self, error: BaseException | None) -> None:
        was_flowing = self.flowing.is_set()
        self.flowing.clear()
        reason = "the stream ended" if error is None else describe(error)
        worker_state.note_subscription(self.app.db, FILE_UPLOADED_TOPIC, reason)
        if was_flowing or error is not None:
            log.warning("subscription to %s down (%s); reconnecting, the poll runs fast meanwhile",
                        FILE_UPLOADED_TOPIC, reason[:200])
        self.on_down()
