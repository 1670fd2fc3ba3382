"""One scan pipeline: the verification API, the worker and the dashboard's Check a file give the same
verdict and the same signals for the same file under the same admin settings (a model the admin
turned on, its threshold, the risks the admin quarantines), and an admin's change reaches engines
already running without a restart."""
from __future__ import annotations

import os
import stat
import time

import pytest
from fastapi.testclient import TestClient

from core.bootstrap import App
from core.commands import items, settings_admin, users
from core.commands.apikeys import create_api_key
from core.domain.lifecycle import Risk
from core.domain.roles import Actor, Role
from core.domain.thresholds import Thresholds
from core.entrypoints.api import create_app
from core.entrypoints.worker import Worker, WorkerOptions
from core.loops import uploads
from core.models import MediaItem
from core.queries.items import verdict_report
from core.verification.corpus import genuine_photo
from core.verification.policy import ScanPolicy
from core.verification.setup import DISABLED_BY_DEFAULT

SYSTEM = Actor.system("test")
ADMIN = Actor("admin@firm.test", Role.ADMIN)
RESPONDER = Actor("responder@firm.test", Role.RESPONDER)
MODEL = "artifact_cnn"  # off by default: the admin turns it on
PHOTO = genuine_photo(3, size=(256, 192))


def accounts(app: App) -> None:
    for person in (ADMIN, RESPONDER):
        users.create_user(app.uow(), actor=SYSTEM, email=person.id, role=person.role)


def admin_turns_the_model_on_and_quarantines_only_high(app: App) -> None:
    settings_admin.update_detectors(app.uow(), actor=ADMIN, overrides={MODEL: {"enabled": True, "threshold": 0.3}},
                                    reason="trial of the artifact model")
    settings_admin.update_thresholds(app.uow(), actor=ADMIN, thresholds=Thresholds(quarantine_risks=("high",)),
                                     reason="medium goes to review without a hold")


def verdict(report: dict) -> tuple:
    return (report["risk"], tuple(report["reasons"]),
            tuple((s["name"], s["version"], s["score"], s["label"]) for s in report["signals"]))


def by_the_worker(app: App) -> dict:
    stored = app.media.put(PHOTO)
    item_id = items.register_item(app.uow(), actor=SYSTEM, source="upload", external_id="for-the-worker",
                                  file_name="selfie.jpg", declared_type="image/jpeg", size_bytes=stored.size,
                                  sha256=stored.sha256, storage_path=str(stored.path))
    worker = Worker(app, WorkerOptions(name="w-pipeline", scan_threads=1, idle_sleep_s=0.1))
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while (report := verdict_report(app.db, item_id)) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.shutdown()
    assert report is not None, "the worker did not scan the item"
    return report


def by_the_api(app: App) -> dict:
    with TestClient(create_app(app)) as client:
        _, key = create_api_key(app.uow(), actor=SYSTEM, name="pipeline", rate_per_minute=100)
        response = client.post("/v1/verify", headers={"X-API-Key": key},
                               files={"file": ("selfie.jpg", PHOTO, "image/jpeg")})
    assert response.status_code == 200, response.text
    return response.json()


def test_api_worker_and_check_a_file_agree_under_the_admins_settings(any_app):
    assert MODEL in DISABLED_BY_DEFAULT
    accounts(any_app)
    admin_turns_the_model_on_and_quarantines_only_high(any_app)

    worker = by_the_worker(any_app)
    api = by_the_api(any_app)
    item_id, state = uploads.register_upload(any_app, actor=RESPONDER, data=PHOTO, file_name="selfie.jpg",
                                             declared_type="image/jpeg")
    registered = verdict_report(any_app.db, item_id)
    checked = uploads.check_file(any_app, actor=RESPONDER, data=PHOTO, file_name="selfie.jpg",
                                 declared_type="image/jpeg")

    assert verdict(worker) == verdict(api) == verdict(registered) == verdict(checked)
    risk, reasons, signals = verdict(checked)
    model = next(s for s in signals if s[0] == MODEL)
    assert model[3] == "synthetic" and risk == "medium"
    assert any(f"{MODEL}" in r and "threshold 0.3" in r for r in reasons), reasons  # the admin's threshold
    # Medium is not held: the admin quarantines high risk only, and every path applied that choice.
    assert worker["state"] == api["state"] == registered["state"] == state.value == "clean"


def test_an_admins_change_replaces_running_engines_without_a_restart(sqlite_app):
    accounts(sqlite_app)
    policy = ScanPolicy(sqlite_app.db, sqlite_app.settings, ttl_s=3600)
    try:
        with policy.engine() as first:
            before = first.scan_bytes(PHOTO, file_name="a.jpg")
            old_child = first.sandbox.pid
        with policy.engine() as held:
            assert held is first and held.sandbox.pid == old_child  # same configuration: engine and child reused
            admin_turns_the_model_on_and_quarantines_only_high(sqlite_app)
            assert not policy.rules().config.detectors[MODEL].enabled  # read again only after the TTL
            policy.ttl_s = 0
            assert policy.rules().config.detectors[MODEL].enabled
        with pytest.raises(ProcessLookupError):  # built from the old configuration: stopped when given back
            os.kill(old_child, 0)
        with policy.engine() as fresh:
            after = fresh.scan_bytes(PHOTO, file_name="a.jpg")
            assert fresh is not first
    finally:
        policy.close()
    assert MODEL not in {s.name for s in before.signals} and MODEL in {s.name for s in after.signals}
    assert policy.rules().quarantine_risks == {Risk.HIGH}


def test_registering_an_upload_keeps_one_owner_only_copy_named_by_its_hash(sqlite_app, monkeypatch):
    accounts(sqlite_app)
    first, _ = uploads.register_upload(sqlite_app, actor=RESPONDER, data=PHOTO, file_name="a.jpg")
    again, _ = uploads.register_upload(sqlite_app, actor=RESPONDER, data=PHOTO, file_name="b.jpg")
    with sqlite_app.db.reader() as s:
        item = s.get(MediaItem, first)
    path = sqlite_app.media.path_for(item.sha256)
    assert again == first and item.storage_path == str(path) and path.read_bytes() == PHOTO
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_check_a_file_refuses_what_the_engine_would_not_scan(sqlite_app):
    accounts(sqlite_app)
    too_big = b"\0" * (sqlite_app.scan_policy.max_file_bytes + 1)
    with pytest.raises(ValueError, match="larger than the 50 MB limit"):
        uploads.check_file(sqlite_app, actor=RESPONDER, data=too_big, file_name="big.bin")
