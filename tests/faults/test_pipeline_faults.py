"""The running pipeline under trouble: a flaky org, a burst of uploads, hostile files, and two
workers sharing one PostgreSQL database."""
import dataclasses
import os
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from core.bootstrap import build, migrate
from core.commands import settings_admin
from core.domain.outbox import RetryPolicy
from core.domain.roles import Actor, Role
from core.domain.thresholds import Thresholds
from core.entrypoints.worker import Worker, WorkerOptions
from core.models import AuditEvent, MediaItem, OutboxEntry, Quarantine
from core.settings import IngestSettings, PreemptiveSettings
from core.verification.hostile import hostile_samples
from tests.conftest import enroll, make_settings
from tests.faults.pipeline import HEAVY_PIPELINE, finished, progress, seed_uploads, start_worker, verdict_counts, wait, worker_env
from tests.sf import DOMAIN, settings_for


def app_for(tmp_path, emu, database_url=None, **changes):
    settings = dataclasses.replace(make_settings(tmp_path, database_url), salesforce=settings_for(emu), **changes)
    migrate(settings.database_url)
    return build(settings)


def no_duplicate_effects(emu) -> None:
    creates = Counter((e["type"], e["id"]) for e in emu.request_log.effects(op="create"))
    assert all(n == 1 for n in creates.values())
    history = emu.org.records("RD_Media_Verification__c")
    assert len(history) == len({r["RD_External_Id__c"] for r in history})
    cases = emu.org.records("Case")
    assert len(cases) == len({c["RD_Item_Id__c"] for c in cases})


@HEAVY_PIPELINE
@pytest.mark.slow
def test_a_flaky_org_gets_every_effect_exactly_once(tmp_path, emu):
    """20% of Salesforce calls fail (503 or a timeout) and the session expires once."""
    app = app_for(tmp_path, emu)
    app = dataclasses.replace(app, settings=dataclasses.replace(
        app.settings, salesforce=settings_for(emu, timeout_s=1.0)))
    versions = seed_uploads(emu, int(os.environ.get("RD_FLAKY_FILES", "200")))
    emu.faults.unavailable(times=None, probability=0.10)
    emu.faults.slow(delay_ms=1500, times=None, probability=0.10)  # longer than the client's timeout
    emu.faults.expire_session(after=40)
    worker = Worker(app, WorkerOptions(name="flaky", scan_threads=2, ingest=IngestSettings(poll_fast_s=0.3), lease_s=5,
                                       retry=RetryPolicy(max_attempts=30, base_s=0.2, cap_s=3)))
    worker.start()
    try:
        assert wait(lambda: finished(app, len(versions)), 600), progress(app)
    finally:
        worker.shutdown()
    emu.faults.clear()
    faulted = Counter(e.fault for e in emu.request_log.entries() if e.fault)
    assert faulted["unavailable"] > 10 and faulted["delay"] > 10 and faulted["expire_session"] >= 1
    with app.db.reader() as s:
        assert s.execute(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status == "dead")).scalar() == 0
    assert all(n == 1 for n in verdict_counts(app).values())
    no_duplicate_effects(emu)
    status = app.settings.salesforce.fields.status
    assert all(emu.org.get(v)[status] in ("Verified", "Quarantined") for v in versions)


@HEAVY_PIPELINE
@pytest.mark.slow
@pytest.mark.timeout(1200)  # its own waits bound it; beside three other test processes it can pass 600 s
def test_a_burst_of_5000_uploads_is_verified_with_preemptive_holds(tmp_path, emu, capsys):
    files = int(os.environ.get("RD_BURST_FILES", "5000"))
    app = app_for(tmp_path, emu, preemptive=PreemptiveSettings(enabled=True))
    admin = Actor("admin@firm.test", Role.ADMIN)
    enroll(app, admin)  # a two-second backlog limit: holds start as soon as the queue builds up
    settings_admin.update_thresholds(app.uow(), actor=admin, thresholds=Thresholds(backlog_limit_minutes=2 / 60))
    emu.org.set_api_usage(limit=10_000_000)
    account = emu.org.create("Account", {"Name": "Burst Holdings"})
    kyc = [emu.org.create("KYC_Check__c", {"Name": f"KYC-{i}", "Account__c": account}) for i in range(5)]
    from tests.faults.pipeline import small_jpeg
    versions = [emu.upload_file(username=f"kyc.sam@{DOMAIN}", record_id=kyc[i % 5] if i % 5 == 0 else account,
                                path_on_client=f"b{i}.jpg", data=small_jpeg(i)) for i in range(files)]
    # One scanner against a fast ingest: the backlog grows, as it does in a real burst.
    worker = Worker(app, WorkerOptions(name="burst", scan_threads=1, ingest=IngestSettings(poll_fast_s=0.5)))
    ages, started = [], time.monotonic()
    worker.start()
    try:
        def sample():
            p = progress(app)
            age = 0 if p["oldest"] is None else (time.time() - p["oldest"].timestamp())
            ages.append((round(time.monotonic() - started), p["verified"], round(age, 1)))
            return finished(app, files)
        assert wait(sample, 1500, 2.0), progress(app)
    finally:
        worker.shutdown()
    with app.db.reader() as s:
        holds = s.execute(select(MediaItem.state, Quarantine.status, func.count())
                          .join(Quarantine, Quarantine.item_id == MediaItem.id).where(Quarantine.preemptive)
                          .group_by(MediaItem.state, Quarantine.status)).all()
        items = s.execute(select(func.count()).select_from(MediaItem)).scalar()
    holds = {(state, status): n for state, status, n in holds}
    assert items == files and sum(holds.values()) > 0, holds
    # A held file that came out clean got its links back; one that was flagged stays held.
    assert set(holds) <= {("clean", "restored"), ("quarantined", "active")}, holds
    assert holds.get(("clean", "restored"), 0) > 0
    for version in versions[::500]:
        links = [link for link in emu.org.records("ContentDocumentLink")
                 if link["ContentDocumentId"] == emu.org.get(version)["ContentDocumentId"]]
        assert any(not link["LinkedEntityId"].startswith("005") for link in links)
    no_duplicate_effects(emu)
    with capsys.disabled():
        print(f"\nburst of {files}: {sum(holds.values())} held pre-emptively ({holds}); "
              f"(seconds, verified, oldest unverified age s):")
        print(" ".join(f"({t},{v},{a})" for t, v, a in ages[::max(1, len(ages) // 20)]))


@pytest.mark.slow
def test_hostile_files_end_quarantined_as_unscannable_and_the_worker_lives(sqlite_app, emu, tmp_path):
    account = emu.org.create("Account", {"Name": "Hostile Holdings"})
    # Salesforce refuses an empty file, and it declares a type from the file's extension, so the
    # zero-byte samples and those hostile only through a lying Content-Type cannot arrive this way.
    samples = [s for s in hostile_samples(7) if 0 < len(s.data) < 40 * 1024 * 1024 and not s.declared_type]
    for n, sample in enumerate(samples):
        emu.upload_file(username=f"kyc.ines@{DOMAIN}", record_id=account,
                        path_on_client=sample.name if "." in sample.name else f"h{n}.bin", data=sample.data)
    worker = start_worker(worker_env(sqlite_app, emu), "hostile", lease_s=30, log=tmp_path / "w.log")
    try:
        assert wait(lambda: finished(sqlite_app, len(samples)), 600), progress(sqlite_app)
        assert worker.poll() is None, (tmp_path / "w.log").read_text()[-3000:]
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0  # a clean stop on SIGTERM
    with sqlite_app.db.reader() as s:
        rows = s.execute(select(MediaItem.file_name, MediaItem.state, MediaItem.risk, MediaItem.unscannable_reason)).all()
    assert len(rows) == len(samples)
    for name, state, risk, reason in rows:
        assert (state, risk) == ("quarantined", "unscannable") and reason, (name, state, risk)


@pytest.mark.slow
def test_two_workers_share_one_postgresql_without_double_scans(pg_cluster, emu, tmp_path):
    import psycopg

    with psycopg.connect(pg_cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "rd_two" TEMPLATE rd_template')
    app = app_for(tmp_path, emu, database_url=pg_cluster.url("rd_two"))
    versions = seed_uploads(emu, 300)
    env = worker_env(app, emu)
    workers = [start_worker(env, f"pg-{n}", lease_s=30, log=tmp_path / f"w{n}.log") for n in range(2)]
    try:
        assert wait(lambda: finished(app, len(versions)), 600), progress(app)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(timeout=60)
    counts = verdict_counts(app)
    assert len(counts) == len(versions) and set(counts.values()) == {1}
    with app.db.reader() as s:
        scanners = Counter(s.execute(select(AuditEvent.after).where(AuditEvent.action == "item.scan_started")).scalars())
        per_item = Counter(s.execute(select(AuditEvent.object_id).where(AuditEvent.action == "item.scanned")).scalars())
    assert set(per_item.values()) == {1}
    owners = Counter(a.split('"lease_owner":"')[1].split("/")[0] for a in scanners)
    assert set(owners) == {"pg-0", "pg-1"}, owners  # both really worked
    no_duplicate_effects(emu)
    app.db.dispose()
