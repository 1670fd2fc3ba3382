"""The worker's loops against the emulator: every uploaded file verified and written back,
health published, /metrics served, a clean stop."""
import dataclasses
import time

import requests
from sqlalchemy import func, select

from core.bootstrap import build, migrate
from core.entrypoints.worker import Worker, WorkerOptions
from core.localnet import free_port
from core.models import MediaItem, OutboxEntry
from core.queries.health import health
from core.settings import IngestSettings
from core.verification.corpus import genuine_photo, metadata_samples
from tests.conftest import make_settings
from tests.sf import DOMAIN, settings_for


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_worker_verifies_every_upload_and_writes_back(tmp_path, emu):
    settings = dataclasses.replace(make_settings(tmp_path), salesforce=settings_for(emu))
    migrate(settings.database_url)
    app = build(settings)
    account = emu.org.create("Account", {"Name": "Worker Holdings"})
    synthetic = [s.data for s in metadata_samples(3)][:3]
    files = [genuine_photo(n, size=(160, 120)) for n in range(9)] + synthetic
    versions = [emu.upload_file(username=f"kyc.sam@{DOMAIN}", record_id=account,
                                path_on_client=f"f{n}.png" if data.startswith(b"\x89PNG") else f"f{n}.jpg",
                                data=data) for n, data in enumerate(files)]
    port = free_port()
    worker = Worker(app, WorkerOptions(name="w-test", scan_threads=2, ingest=IngestSettings(poll_fast_s=0.5), metrics_port=port))
    worker.start()
    try:
        def done():
            with app.db.reader() as s:
                scanned = s.execute(select(func.count()).select_from(MediaItem)
                                    .where(MediaItem.scanned_at.is_not(None))).scalar()
                open_effects = s.execute(select(func.count()).select_from(OutboxEntry)
                                         .where(OutboxEntry.status != "done")).scalar()
            return scanned == len(files) and open_effects == 0
        assert wait_for(done), health(app.db)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "responsedesk_queue_depth 0.0" in metrics and "responsedesk_dead_letters 0.0" in metrics
        assert wait_for(lambda: health(app.db)["worker_heartbeat_s"] is not None, 15)
    finally:
        worker.shutdown()
    assert all(not t.is_alive() for t in worker._threads)
    status_field = settings.salesforce.fields.status
    statuses = {v: emu.org.get(v)[status_field] for v in versions}
    assert set(statuses.values()) <= {"Verified", "Quarantined"}
    assert [statuses[v] for v in versions[-3:]] == ["Quarantined"] * 3
    h = health(app.db)
    assert h["queue_depth"] == 0 and h["api_used"] is not None and h["last_poll_s"] is not None
