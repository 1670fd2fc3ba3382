"""Event-driven ingest against the emulator's Pub/Sub API (gRPC over TLS): an upload is registered from
its RD_File_Uploaded__e event with the poll far away, a missed event is caught by the reconciliation
poll, a restarted subscription resumes from its stored replay id, and the poll backs off while the
org is idle and events flow. Counts and order from the emulator's request log; no timed assertions."""
import dataclasses
import threading
import time
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import select

from core.adapters import worker_state
from core.adapters.salesforce.pubsub import FILE_UPLOADED_TOPIC
from core.bootstrap import build, migrate
from core.entrypoints.worker import Worker, WorkerOptions
from core.loops.events import FileEvents
from core.models import MediaItem
from core.settings import IngestSettings
from core.verification.corpus import genuine_photo
from tests.conftest import make_settings
from tests.sf import DOMAIN, settings_for

pytestmark = pytest.mark.slow
FAR = 3600.0  # a poll interval no test waits for


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def make_app(tmp_path, emu, **ingest):
    settings = dataclasses.replace(make_settings(tmp_path), salesforce=settings_for(emu),
                                   ingest=IngestSettings(**ingest))
    migrate(settings.database_url)
    return build(settings)


def start_worker(app, name="events"):
    worker = Worker(app, WorkerOptions(name=name, scan_threads=0))
    worker.start()
    return worker


def upload(emu, n=0, record=None):
    return emu.upload_file(username=f"kyc.sam@{DOMAIN}", record_id=record, path_on_client=f"upload-{n}.png",
                           data=genuine_photo(n, size=(64, 48)))


def registered(app) -> list[str]:
    with app.db.reader() as s:
        return list(s.execute(select(MediaItem.external_id).order_by(MediaItem.id)).scalars())


def queries(emu, marker: str) -> list[int]:
    """Sequence numbers of the SOQL queries whose text holds `marker`."""
    return [e.seq for e in emu.request_log.api_calls() if "/query" in e.path and marker in unquote_plus(e.query)]


def polls(emu) -> list[int]:
    return queries(emu, "IsLatest = true")


def test_an_upload_is_registered_from_its_event_with_the_poll_far_away(tmp_path, emu):
    app = make_app(tmp_path, emu, poll_fast_s=FAR, poll_idle_max_s=FAR)
    worker = start_worker(app)
    try:
        assert wait_for(lambda: worker.events.flowing.is_set() and len(polls(emu)) == 1)
        account = emu.org.create("Account", {"Name": "Event Holdings"})
        version = upload(emu, record=account)
        assert wait_for(lambda: registered(app) == [version])
    finally:
        worker.shutdown()
    assert len(polls(emu)) == 1, "only the start-up poll ran: the event brought the file"
    by_event = queries(emu, "FROM ContentVersion WHERE Id IN")  # the versions the event named
    assert len(by_event) == 1 and by_event[0] > polls(emu)[0]
    with app.db.reader() as s:
        item = s.execute(select(MediaItem)).scalar_one()
    assert item.content_document_id == emu.org.get(version)["ContentDocumentId"]
    assert [link["entity_id"] for link in item.linked_records if link["entity_id"] == account] == [account]
    assert worker_state.replay_position(app.db, FILE_UPLOADED_TOPIC) is not None


def test_a_file_whose_event_is_missed_is_found_by_the_reconciliation_poll(tmp_path, emu):
    """The subscription is down (the Pub/Sub API refuses every call): the poll stays at its fast
    interval and registers the file; when the subscription comes back nothing is registered twice."""
    emu.pubsub.outage(True)
    app = make_app(tmp_path, emu, poll_fast_s=0.2, poll_idle_max_s=FAR, reconnect_max_s=0.5)
    worker = start_worker(app)
    try:
        assert wait_for(lambda: len(polls(emu)) >= 2)
        version = upload(emu, 1)
        assert wait_for(lambda: registered(app) == [version])
        assert not worker.events.flowing.is_set()
        state = worker_state.watermark(app.db, f"pubsub:{FILE_UPLOADED_TOPIC}")
        assert "UNAVAILABLE" in (state.last_error or "")
        emu.pubsub.outage(False)
        assert wait_for(lambda: worker.events.flowing.is_set())
        second = upload(emu, 2)
        assert wait_for(lambda: registered(app) == [version, second])
    finally:
        worker.shutdown()
    calls = [(e.path.rsplit("/", 1)[1], e.status) for e in emu.request_log.entries() if e.method == "GRPC"]
    assert calls[0] == ("GetTopic", 14), "refused while down (UNAVAILABLE)"
    assert ("Subscribe", 14) not in calls and any(name == "Subscribe" for name, _ in calls)


def test_an_event_that_was_never_published_is_found_while_events_flow(tmp_path, emu):
    """The trigger is off (the event is lost at the source): the backed-off poll still finds the file."""
    emu.org.events.remove_upload_trigger()
    app = make_app(tmp_path, emu, poll_fast_s=0.1, poll_idle_max_s=0.8)
    worker = start_worker(app)
    try:
        assert wait_for(lambda: worker.events.flowing.is_set())
        version = upload(emu, 3)
        assert wait_for(lambda: registered(app) == [version])
    finally:
        worker.shutdown()
    assert not queries(emu, "FROM ContentVersion WHERE Id IN"), "no event: only the poll registered it"


def run_subscription(app):
    stop = threading.Event()
    events = FileEvents(app, app.salesforce(), stop=stop)
    thread = threading.Thread(target=events.run, daemon=True)
    thread.start()
    return events, stop, thread


def stop_subscription(events, stop, thread):
    stop.set()
    events.interrupt()
    thread.join(10)
    assert not thread.is_alive()


def test_a_restarted_subscription_resumes_after_its_stored_replay_id(tmp_path, emu):
    app = make_app(tmp_path, emu)
    first = run_subscription(app)
    try:
        assert wait_for(lambda: first[0].flowing.is_set())
        before = upload(emu, 4)
        assert wait_for(lambda: registered(app) == [before])
    finally:
        stop_subscription(*first)
    stored = worker_state.replay_position(app.db, FILE_UPLOADED_TOPIC)
    while_away = [upload(emu, 5), upload(emu, 6)]  # published while nobody listens
    second = run_subscription(app)
    try:
        assert wait_for(lambda: registered(app) == [before, *sorted(while_away)])
    finally:
        stop_subscription(*second)
    assert not polls(emu), "no poll ran: the replay brought both files"
    assert worker_state.replay_position(app.db, FILE_UPLOADED_TOPIC) > stored


def test_a_replay_id_the_bus_no_longer_holds_starts_afresh(tmp_path, emu):
    """A stored position the org refuses (older than its retention, or from another org) is dropped
    for the newest event; the reconciliation poll covers the stretch in between."""
    app = make_app(tmp_path, emu)
    worker_state.save_replay_position(app.db, FILE_UPLOADED_TOPIC, (10**9).to_bytes(8, "big"),
                                      at=emu.org.now())
    events, stop, thread = run_subscription(app)
    try:
        assert wait_for(lambda: events.flowing.is_set())
        version = upload(emu, 7)
        assert wait_for(lambda: registered(app) == [version])
    finally:
        stop_subscription(events, stop, thread)
    assert worker_state.replay_position(app.db, FILE_UPLOADED_TOPIC) == (1).to_bytes(8, "big")


def poll_count_over(emu, seconds: float) -> int:
    start = len(polls(emu))
    time.sleep(seconds)
    return len(polls(emu)) - start


def test_the_poll_backs_off_while_idle_and_events_flow_and_runs_fast_while_they_do_not(tmp_path, emu):
    app = make_app(tmp_path, emu, poll_fast_s=0.1, poll_idle_max_s=60, reconnect_max_s=0.5)
    worker = start_worker(app)
    try:
        assert wait_for(lambda: worker.events.flowing.is_set() and len(polls(emu)) >= 1)
        idle_with_events = poll_count_over(emu, 4.0)
        emu.pubsub.outage(True)
        assert wait_for(lambda: not worker.events.flowing.is_set())
        without_events = poll_count_over(emu, 4.0)
        emu.pubsub.outage(False)
        assert wait_for(lambda: worker.events.flowing.is_set())
        upload(emu, 8)  # the event registers it; the poll keeps backing off
        assert wait_for(lambda: len(registered(app)) == 1)
    finally:
        worker.shutdown()
    # At a fixed 0.1 s a 4 s window holds about 40 polls; doubling from 0.1 s, at most 6 (0.1 + 0.2 +
    # ... + 3.2 > 4). With the subscription down the poll returns to 0.1 s.
    assert idle_with_events <= 6
    assert without_events >= 2 * max(idle_with_events, 4)
    api = [e for e in emu.request_log.api_calls() if "/query" in e.path]
    assert all(e.status == 200 for e in api)
