"""The verification API: keys, limits, uploads and ContentVersion ids (in process), and
`python -m core serve` answering over real HTTP."""
import io
import os
import subprocess
import sys

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.commands.apikeys import create_api_key, revoke_api_key
from core.domain.roles import Actor
from core.entrypoints.api import create_app
from core.localnet import free_port, wait_until_up
from core.models import AuditEvent, MediaItem
from core.settings import PROJECT_ROOT
from core.verification.corpus import genuine_photo, metadata_samples
from tests.conftest import TEST_AUDIT_KEY

ADMIN = Actor.system("test")


@pytest.fixture
def client(sqlite_app):
    api = create_app(sqlite_app)
    with TestClient(api) as c:
        _, key = create_api_key(sqlite_app.uow(), actor=ADMIN, name="tests", rate_per_minute=1000)
        c.headers["X-API-Key"] = key
        yield c


def test_a_genuine_upload_is_verified_registered_and_audited(client, sqlite_app):
    response = client.post("/v1/verify", files={"file": ("selfie.jpg", genuine_photo(3), "image/jpeg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["risk"] == "low" and body["path"] == "selfie.jpg" and len(body["sha256"]) == 64
    assert {s["name"] for s in body["signals"]} >= {"hash", "c2pa", "generator_metadata"}
    with sqlite_app.db.reader() as s:
        item = s.get(MediaItem, body["item_id"])
        actions = set(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == str(item.id))).scalars())
    assert item.source == "api" and item.state == "clean" and item.provenance["api_key_name"] == "tests"
    assert {"item.registered", "item.scan_started", "item.scanned"} <= actions


def test_generator_metadata_upload_is_quarantined(client):
    sample = next(s for s in metadata_samples(2) if s.data.startswith(b"\x89PNG"))
    body = client.post("/v1/verify", files={"file": ("gen.png", sample.data, "image/png")}).json()
    assert body["risk"] in ("high", "medium") and body["state"] == "quarantined"


def test_a_hostile_upload_is_unscannable_not_an_error(client):
    body = client.post("/v1/verify", files={"file": ("id.jpg", b"\xff\xd8\xff" + os.urandom(500), "image/jpeg")}).json()
    assert body["risk"] == "unscannable" and body["unscannable_reason"] and body["state"] == "quarantined"


def test_keys_are_required_and_revocable(client, sqlite_app):
    assert client.post("/v1/verify", headers={"X-API-Key": "rdk_wrong"}, json={}).status_code == 401
    _, key = create_api_key(sqlite_app.uow(), actor=ADMIN, name="old")
    from core.commands.apikeys import authenticate
    revoke_api_key(sqlite_app.uow(), actor=ADMIN, key_id=authenticate(sqlite_app.db, key).id)
    assert client.post("/v1/verify", headers={"X-API-Key": key}, json={}).status_code == 401


def test_each_key_is_rate_limited(client, sqlite_app):
    _, key = create_api_key(sqlite_app.uow(), actor=ADMIN, name="slow", rate_per_minute=2)
    codes = [client.post("/v1/verify", headers={"X-API-Key": key},
                         files={"file": ("a.jpg", genuine_photo(1, size=(64, 64)), "image/jpeg")}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_oversized_requests_are_refused_before_reading(client):
    response = client.post("/v1/verify", content=b"x", headers={"Content-Length": str(200 * 1024 * 1024),
                                                                "Content-Type": "application/octet-stream"})
    assert response.status_code == 413


def test_openapi_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/verify" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_verify_by_content_version_id_fetches_from_the_org(tmp_path, emu):
    import dataclasses

    from core.bootstrap import build, migrate
    from tests.conftest import make_settings
    from tests.sf import DOMAIN, settings_for

    settings = dataclasses.replace(make_settings(tmp_path), salesforce=settings_for(emu))
    migrate(settings.database_url)
    app = build(settings)
    account = emu.org.create("Account", {"Name": "Api Holdings"})
    version = emu.upload_file(username=f"kyc.ines@{DOMAIN}", record_id=account, path_on_client="pass.jpg",
                              data=genuine_photo(5))
    with TestClient(create_app(app)) as c:
        _, key = create_api_key(app.uow(), actor=ADMIN, name="sf")
        body = c.post("/v1/verify", headers={"X-API-Key": key}, json={"content_version_id": version}).json()
        again = c.post("/v1/verify", headers={"X-API-Key": key}, json={"content_version_id": version}).json()
    assert body["risk"] == "low" and body["path"] == "pass.jpg" and again["item_id"] == body["item_id"]
    with app.db.reader() as s:
        assert s.execute(select(MediaItem.external_id)).scalars().all() == [version]


def test_core_serve_answers_over_http(sqlite_app, tmp_path):
    _, key = create_api_key(sqlite_app.uow(), actor=ADMIN, name="http")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_app.settings.database_url, "RD_VAR_DIR": str(tmp_path),
           "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode()}
    server = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", timeout=30)
        response = requests.post(f"http://127.0.0.1:{port}/v1/verify", headers={"X-API-Key": key}, timeout=60,
                                 files={"file": ("doc.png", io.BytesIO(b"\x89PNG\r\n\x1a\nnot really"), "image/png")})
        assert response.status_code == 200 and response.json()["risk"] == "unscannable"
        assert requests.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
