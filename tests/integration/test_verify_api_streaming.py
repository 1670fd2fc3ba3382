"""The verification API over real HTTP: a body is counted as it streams and refused at the limit
(chunked, no Content-Length) without the server holding it; an upload is kept owner-only in the
media store, where reviewers see it and a rescan reads it; a claim lost to another scanner is a 409."""
from __future__ import annotations

import dataclasses
import os
import select
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy import select as sql_select

from core.adapters.media import item_media
from core.bootstrap import build, migrate
from core.commands import users
from core.commands.apikeys import create_api_key
from core.domain.roles import Actor, Role
from core.entrypoints.api import MULTIPART_OVERHEAD_BYTES, create_app
from core.localnet import free_port, wait_until_up
from core.loops import ingest, scanning
from core.models import MediaItem, Verdict
from core.queries.items import verdict_report
from core.settings import PROJECT_ROOT
from core.verification.corpus import genuine_photo
from tests.conftest import TEST_AUDIT_KEY, make_settings

SYSTEM = Actor.system("test")
BOUNDARY = "rd-test-boundary"
MiB = 1024 * 1024


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def chunked_upload(file_bytes: int, block: int = 1 << 16):
    """A multipart body carrying `file_bytes` bytes of file, framed for Transfer-Encoding: chunked."""
    yield chunk(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n".encode())
    filler = b"\xff" * block
    for _ in range(file_bytes // block):
        yield chunk(filler)
    yield chunk(f"\r\n--{BOUNDARY}--\r\n".encode())
    yield b"0\r\n\r\n"


def post_streaming(port: int, key: str, frames) -> tuple[bytes, int]:
    """Send the request while watching for an answer; stop sending as soon as one comes (or the
    server hangs up). Returns the answer's head and the bytes the server accepted before it."""
    head = (f"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        sent, pending = 0, b""
        while True:
            readable, writable, _ = select.select([sock], [sock], [], 60)
            assert readable or writable, "the server neither read nor answered for a minute"
            if readable:
                break
            pending = pending or next(frames, b"")
            if not pending:
                break  # all of it was sent
            try:
                accepted = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent, pending = sent + accepted, pending[accepted:]
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(65536)
            assert piece, "the server closed the connection without answering"
            answer += piece
    return answer.split(b"\r\n\r\n", 1)[0], sent


def memory_kib(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines) if k in ("VmRSS", "VmHWM")}


@pytest.fixture
def server(sqlite_app, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_app.settings.database_url, "RD_VAR_DIR": str(tmp_path),
           "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode()}
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", timeout=30)
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=30)


def items_held(app) -> int:
    with app.db.reader() as s:
        return s.execute(sql_select(func.count()).select_from(MediaItem)).scalar()


def test_a_chunked_upload_over_the_limit_is_refused_while_streaming_and_never_held(sqlite_app, server):
    process, port = server
    _, key = create_api_key(sqlite_app.uow(), actor=SYSTEM, name="stream", rate_per_minute=100)
    limit = sqlite_app.scan_policy.max_file_bytes + MULTIPART_OVERHEAD_BYTES
    head, _ = post_streaming(port, key, iter(chunked_upload(16 * 1024)))  # warm up: a small, valid request
    assert head.startswith(b"HTTP/1.1 200"), head
    before, held = memory_kib(process.pid), items_held(sqlite_app)

    total = 4 * limit
    head, sent = post_streaming(port, key, iter(chunked_upload(total)))

    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"connection: close" in head.lower()
    assert limit < sent < total / 2, f"the client sent {sent:,} of {total:,} bytes before the answer"
    assert items_held(sqlite_app) == held  # nothing registered
    assert list((sqlite_app.media.root / ".incoming").iterdir()) == []  # the partial file is gone
    grew = memory_kib(process.pid)["VmHWM"] - before["VmRSS"]
    print(f"\nserver resident memory: {before['VmRSS'] / 1024:.0f} MiB before; peak grew {grew / 1024:.1f} MiB "
          f"while refusing {sent / MiB:.0f} MiB")
    assert grew * 1024 < 16 * MiB, "the server held the body in memory"


def test_an_upload_is_kept_owner_only_and_reviewers_see_and_rescan_it(sqlite_app):
    photo = genuine_photo(6, size=(200, 150))
    with TestClient(create_app(sqlite_app)) as client:
        _, key = create_api_key(sqlite_app.uow(), actor=SYSTEM, name="store", rate_per_minute=100)
        body = client.post("/v1/verify", headers={"X-API-Key": key},
                           files={"file": ("id.jpg", photo, "image/jpeg")}).json()
    with sqlite_app.db.reader() as s:
        item = s.get(MediaItem, body["item_id"])
    path = Path(item.storage_path)
    assert path == sqlite_app.media.path_for(body["sha256"]) and path.read_bytes() == photo
    assert item.sha256 == body["sha256"] and item.size_bytes == len(photo)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {stat.S_IMODE(p.stat().st_mode) for p in (path.parent, sqlite_app.media.root)} == {0o700}
    reviewer = Actor("rev@firm.test", Role.REVIEWER)
    users.create_user(sqlite_app.uow(), actor=SYSTEM, email=reviewer.id, role=reviewer.role)
    assert item_media(sqlite_app.db, actor=reviewer, item_id=item.id).data == photo
    with sqlite_app.scan_policy.engine() as engine:
        rescan = scanning.outcome_for(engine, item, sqlite_app.scan_policy.max_file_bytes)
    assert rescan.risk.value == body["risk"] and list(rescan.reasons) == body["reasons"]


def test_a_multipart_request_without_a_file_part_is_refused(sqlite_app):
    with TestClient(create_app(sqlite_app)) as client:
        _, key = create_api_key(sqlite_app.uow(), actor=SYSTEM, name="form", rate_per_minute=100)
        response = client.post("/v1/verify", headers={"X-API-Key": key}, data={"note": "no file"},
                               files={"attachment": ("x.jpg", b"\xff\xd8\xff", "image/jpeg")})
    assert response.status_code == 422 and "part named 'file'" in response.text
    assert items_held(sqlite_app) == 0


def test_a_claim_held_by_another_scanner_is_a_409_until_its_verdict_is_in(tmp_path, emu):
    from tests.sf import DOMAIN, settings_for

    settings = dataclasses.replace(make_settings(tmp_path), salesforce=settings_for(emu))
    migrate(settings.database_url)
    app = build(settings)
    account = emu.org.create("Account", {"Name": "Claim Holdings"})
    version = emu.upload_file(username=f"kyc.ines@{DOMAIN}", record_id=account, path_on_client="held.jpg",
                              data=genuine_photo(8))
    item_id = ingest.register_version(app, app.salesforce(), version)
    assert scanning.claim(app, owner="worker-elsewhere", item_id=item_id) == [item_id]
    with TestClient(create_app(app, verdict_wait_s=0.5)) as client:
        _, key = create_api_key(app.uow(), actor=SYSTEM, name="claims")
        ask = lambda: client.post("/v1/verify", headers={"X-API-Key": key}, json={"content_version_id": version})
        held = ask()
        assert held.status_code == 409 and held.headers["retry-after"] == "5"
        with app.db.reader() as s:  # the API recorded nothing under a lease it does not hold
            item = s.get(MediaItem, item_id)
            assert (item.state, item.lease_owner) == ("scanning", "worker-elsewhere")
            assert s.execute(sql_select(func.count()).select_from(Verdict)).scalar() == 0
        with app.scan_policy.engine() as engine:
            scanning.scan_claimed(app, engine, item_id, owner="worker-elsewhere")
        done = ask()
    assert done.status_code == 200 and done.json() == verdict_report(app.db, item_id)
