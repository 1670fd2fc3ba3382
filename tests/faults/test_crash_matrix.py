"""Crash matrix: 2,000 files while worker processes are SIGKILLed at least 20 times at random
points (claiming, scanning, committing, after a Salesforce call before marking it done).
Afterwards: no item lost, none clean or released without a scan, no Salesforce effect twice."""
import os
import random
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import select

from core.commands.audit import verify_chain
from core.domain.roles import Actor, Role
from core.models import AuditEvent, MediaItem, OutboxEntry
from tests.faults.pipeline import finished, progress, seed_uploads, start_worker, verdict_counts, wait, worker_env

FILES = int(os.environ.get("RD_CRASH_FILES", "2000"))
KILLS = 20
CRASH_POINTS = ("after_claim:0.004,before_record:0.004,after_record:0.002,before_commit:0.001,"
                "after_download:0.002,after_sf_call:0.03")


@pytest.mark.slow  # beside the burst and the flaky org, not after them (tests/faults/pipeline.py)
@pytest.mark.timeout(1200)  # its own waits bound it; beside three other test processes it can pass 600 s
def test_sigkill_matrix_loses_nothing_and_duplicates_nothing(sqlite_app, emu, tmp_path, capsys):
    versions = seed_uploads(emu, FILES)
    rng = random.Random(20261129)
    crashing = worker_env(sqlite_app, emu, RD_CRASH_POINTS=CRASH_POINTS)
    log = tmp_path / "workers.log"
    kills, recoveries, started = Counter(), [], time.monotonic()
    worker = start_worker(crashing, "w0", log=log)
    generation = 0
    while sum(kills.values()) < KILLS and time.monotonic() - started < 900:
        time.sleep(rng.uniform(0.5, 3.0))
        before = progress(sqlite_app)["verified"]
        if worker.poll() is None:  # still alive: kill it from outside at a random moment
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            kills["external"] += 1
        elif worker.returncode == -signal.SIGKILL:  # it killed itself at a crash point
            kills["crash point"] += 1
        else:
            pytest.fail(f"worker exited with {worker.returncode}: {log.read_text()[-3000:]}")
        killed_at = time.monotonic()
        generation += 1
        worker = start_worker(crashing, f"w{generation}", log=log)
        if wait(lambda before=before: progress(sqlite_app)["verified"] > before or finished(sqlite_app, FILES), 60, 0.2):
            recoveries.append(time.monotonic() - killed_at)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    calm = start_worker(worker_env(sqlite_app, emu), "calm", log=log)
    try:
        assert wait(lambda: finished(sqlite_app, FILES), 900), progress(sqlite_app)
    finally:
        calm.send_signal(signal.SIGTERM)
        calm.wait(timeout=60)
    total = time.monotonic() - started

    assert sum(kills.values()) >= KILLS
    with sqlite_app.db.reader() as s:
        items = {i.external_id: i for i in s.execute(select(MediaItem)).scalars()}
        dead = s.execute(select(OutboxEntry).where(OutboxEntry.status == "dead")).scalars().all()
        scanned_events = Counter(s.execute(select(AuditEvent.object_id).where(
            AuditEvent.action == "item.scanned")).scalars())
    assert set(items) == set(versions), "an uploaded file was lost"
    assert not dead, [d.last_error for d in dead]
    counts = verdict_counts(sqlite_app)
    for item in items.values():
        assert item.state in ("clean", "quarantined"), (item.id, item.state)
        assert counts.get(item.id) == 1, f"item {item.id} has {counts.get(item.id)} verdicts"
        assert scanned_events[str(item.id)] == 1
    creates = Counter((e["type"], e["id"]) for e in emu.request_log.effects(op="create"))
    assert all(n == 1 for n in creates.values())
    history = [r for r in emu.org.records("RD_Media_Verification__c")]
    assert len(history) == len({r["RD_External_Id__c"] for r in history}) == FILES
    high = sum(1 for i in items.values() if i.risk == "high")
    cases = emu.org.records("Case")
    assert len(cases) == high == len({c["RD_Item_Id__c"] for c in cases})
    deletes = Counter(e["id"] for e in emu.request_log.effects(op="delete"))
    assert all(n == 1 for n in deletes.values())
    assert verify_chain(sqlite_app.db, actor=Actor.console("auditor", Role.AUDITOR), key=sqlite_app.settings.audit_key).ok
    with capsys.disabled():
        print(f"\ncrash matrix: {FILES} files, kills {dict(kills)}, "
              f"recovery after a kill: median {sorted(recoveries)[len(recoveries) // 2]:.1f} s, "
              f"max {max(recoveries):.1f} s; whole run {total:.0f} s")
