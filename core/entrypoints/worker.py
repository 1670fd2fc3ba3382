"""`python -m core worker`: ingest, scan and relay loops over one database.

- ingest (when an org is configured) subscribes to the org's upload events through the Pub/Sub API and
  registers each new file as its event arrives; a reconciliation poll catches anything an event
  missed, backing off while it finds nothing and events flow;
- scan runs one thread per core, each driving its own sandboxed engine child process (the
  process pool), claiming items under a lease that another worker takes over when it expires;
- relay performs outbox effects on Salesforce with backoff, parking dead letters.
A heartbeat and API usage are published for the Live page; /metrics serves them to Prometheus.
SIGTERM and Ctrl-C stop the loops after the work in hand."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.adapters import worker_state
from core.adapters.salesforce.gateway import is_transient
from core.bootstrap import App
from core.domain.errors import LeaseLost
from core.domain.outbox import RetryPolicy
from core.domain.polling import PollCadence
from core.loops import ingest, scanning
from core.loops.events import FileEvents
from core.loops.mail_relay import mail_relay_for
from core.loops.salesforce_relay import SalesforceRelay
from core.queries.health import health, prometheus
from core.settings import IngestSettings

log = logging.getLogger("responsedesk.worker")


@dataclass
class WorkerOptions:
    name: str = f"{socket.gethostname()}-{os.getpid()}"
    scan_threads: int = max(1, os.cpu_count() or 1)
    ingest: IngestSettings | None = None  # None: the settings' [ingest]
    relay_interval_s: float = 1.0
    idle_sleep_s: float = 0.5
    metrics_port: int | None = None
    lease_s: float = 300.0  # scan and outbox leases; a dead worker's items are taken over after this
    retry: RetryPolicy = RetryPolicy()
    dashboard_url: str = "http://localhost:8501"


class Worker:
    def __init__(self, app: App, options: WorkerOptions | None = None):
        self.app, self.options = app, options or WorkerOptions()
        self.ingest = self.options.ingest or app.settings.ingest
        self.stop = threading.Event()
        self._poll_now = threading.Event()  # wakes the reconciliation poll (the subscription dropped, a stop)
        self.events: FileEvents | None = None
        self.counters = {"scanned": 0, "polls": 0, "relayed": 0, "errors": 0}
        self._threads: list[threading.Thread] = []
        self._metrics: ThreadingHTTPServer | None = None

    # -- loops -------------------------------------------------------------------------------
    def _every(self, interval: float, step, name: str) -> None:
        while not self.stop.is_set():
            self._attempt(step, name)
            self.stop.wait(interval)

    def _attempt(self, step, name: str):
        """Run one step of a loop; a failure is logged and counted, and None returned."""
        try:
            return step()
        except Exception as error:
            self.counters["errors"] += 1
            if is_transient(error):  # the org is busy or unreachable: expected, retried
                log.warning("%s: %s: %s; retrying", name, type(error).__name__, str(error)[:200])
            else:
                log.exception("%s loop step failed; it will run again", name)
            return None

    def _reconcile(self, gw) -> None:
        """The poll: at the fast interval until events flow and it finds nothing new, then backing off."""
        cadence = PollCadence(self.ingest.poll_fast_s, self.ingest.poll_idle_max_s)
        while not self.stop.is_set():
            self._poll_now.clear()
            report = self._attempt(lambda: self._ingest_step(gw), "ingest")
            flowing = self.events is not None and self.events.flowing.is_set()
            self._poll_now.wait(cadence.after_poll(found_new=report is None or bool(report.registered),
                                                   events_flowing=flowing))

    def _ingest_step(self, gw) -> ingest.IngestReport:
        report = ingest.poll(self.app, gw)
        self.counters["polls"] += 1
        if gw.usage is not None:
            worker_state.publish(self.app.db, "salesforce_api", {"used": gw.usage.used, "limit": gw.usage.limit})
        return report

    def _scan_thread(self, index: int) -> None:
        owner = f"{self.options.name}/{index}"
        while not self.stop.is_set():
            try:
                if not self._scan_step(owner):
                    self.stop.wait(self.options.idle_sleep_s)
            except Exception:
                self.counters["errors"] += 1
                log.exception("scan step failed; the item's lease will expire and it is scanned again")
                self.stop.wait(self.options.idle_sleep_s)

    def _scan_step(self, owner: str) -> bool:
        """Claim and scan one item with an engine of the scan policy (a fresh one after an admin's
        change); False when there was nothing to scan."""
        with self.app.scan_policy.engine() as engine:
            claimed = scanning.claim(self.app, owner=owner, limit=1, lease=timedelta(seconds=self.options.lease_s))
            for item_id in claimed:
                try:
                    scanning.scan_claimed(self.app, engine, item_id, owner=owner)
                    self.counters["scanned"] += 1
                except LeaseLost:
                    log.warning("lease on item %s lost to another worker; result discarded", item_id)
        return bool(claimed)

    def _heartbeat(self) -> None:
        event_files = self.events.registered if self.events else 0
        worker_state.publish(self.app.db, f"worker:{self.options.name}",
                             {"pid": os.getpid(), **self.counters, "event_files": event_files})

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        gw = self.app.salesforce()
        if gw is not None:
            if self.ingest.events:  # its own gateway: a requests.Session is not shared across threads
                self.events = FileEvents(self.app, self.app.salesforce(), stop=self.stop, on_down=self._poll_now.set)
                self._spawn("events", self.events.run)
            self._spawn("ingest", self._reconcile, gw)
            relay_gw = self.app.salesforce()  # its own session: requests.Session is not shared across threads
            relay = SalesforceRelay(self.app, relay_gw, owner=self.options.name, dashboard_url=self.options.dashboard_url,
                          lease=timedelta(seconds=self.options.lease_s), policy=self.options.retry)
            self._spawn("relay", self._every, self.options.relay_interval_s, relay.run_once, "relay")
        else:
            log.warning("no Salesforce org configured: scanning API and dashboard uploads only")
        mail = mail_relay_for(self.app, owner=self.options.name, policy=self.options.retry)
        self._spawn("mail", self._every, self.options.relay_interval_s, mail.run_once, "mail")
        for index in range(self.options.scan_threads):
            self._spawn(f"scan-{index}", self._scan_thread, index)
        self._spawn("heartbeat", self._every, 5.0, self._heartbeat, "heartbeat")
        if self.options.metrics_port is not None:
            self._serve_metrics(self.options.metrics_port)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _serve_metrics(self, port: int) -> None:
        app = self.app

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = prometheus(health(app.db)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self._metrics = ThreadingHTTPServer((self.app.settings.bind_address, port), Handler)
        self._spawn("metrics", self._metrics.serve_forever)

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop.set()
        self._poll_now.set()
        if self.events is not None:
            self.events.interrupt()
        if self._metrics is not None:
            self._metrics.shutdown()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.app.scan_policy.close()

    def run_forever(self) -> None:
        """Until SIGTERM or Ctrl-C."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        self.start()
        log.info("worker %s running with %d scan threads", self.options.name, self.options.scan_threads)
        while not self.stop.is_set():
            self.stop.wait(1.0)
        self.shutdown()
        log.info("worker %s stopped", self.options.name)
