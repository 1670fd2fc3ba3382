"""The verification API: `python -m core serve`. A synchronous check at the point of entry, for
Salesforce callouts and other systems. Every file it checks becomes an item like any other."""
from __future__ import annotations

import queue
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from starlette.datastructures import UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core.bootstrap import App, get_app
from core.domain.roles import Actor
from core.domain.scan import outcome_report
from core.models import ApiKey
from core.services import apikeys, items
from core.services.scanning import SCANNER

API_ACTOR = Actor.system("api")
MAX_REQUEST_BYTES = 50 * 1024 * 1024 + 64 * 1024  # the engine's file limit plus multipart overhead


class VerifyById(BaseModel):
    content_version_id: str = Field(pattern=r"^068[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$",
                                    description="A Salesforce ContentVersion id")


class RateLimiter:
    """A token bucket per key, in this process (each server process keeps its own)."""

    def __init__(self):
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: ApiKey) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        rate = key.rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key.id, (float(key.rate_per_minute), time.monotonic()))
            now = time.monotonic()
            tokens = min(float(key.rate_per_minute), tokens + (now - last) * rate)
            if tokens < 1:
                self._buckets[key.id] = (tokens, now)
                return (1 - tokens) / rate
            self._buckets[key.id] = (tokens - 1, now)
            return 0.0


class Engines:
    """A few engines per process, each with its own sandboxed child, handed out one per request."""

    def __init__(self, app: App, size: int = 2):
        from core.verification.engine import Engine
        from core.verification.hashbank import DatabaseHashBank

        self.bank = DatabaseHashBank(app.db)
        config = app.engine_config()
        self._pool: queue.Queue = queue.Queue()
        for _ in range(size):
            self._pool.put(Engine(config, self.bank))
        self._refreshed = time.monotonic()

    @contextmanager
    def lease(self) -> Iterator:
        if time.monotonic() - self._refreshed > 60:
            self.bank.refresh()
            self._refreshed = time.monotonic()
        engine = self._pool.get()
        try:
            yield engine
        finally:
            self._pool.put(engine)

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get().close()


def create_app(app: App | None = None, engines: Engines | None = None) -> FastAPI:
    api = FastAPI(title="Response Desk verification API", version="1",
                  description="Verify a file (multipart upload) or a Salesforce ContentVersion by id. "
                              "Authenticate with an `X-API-Key` header.")
    state = {"app": app, "engines": engines}
    limiter = RateLimiter()

    def core_app() -> App:
        if state["app"] is None:
            state["app"] = get_app()
        return state["app"]

    def engine_pool() -> Engines:
        if state["engines"] is None:
            state["engines"] = Engines(core_app())
        return state["engines"]

    def caller(request: Request, x_api_key: str | None = Header(default=None)) -> ApiKey:
        key = x_api_key or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        found = apikeys.authenticate(core_app().db, key)
        if found is None:
            raise HTTPException(401, "missing, unknown or revoked API key", headers={"WWW-Authenticate": "ApiKey"})
        wait = limiter.allow(found)
        if wait:
            raise HTTPException(429, f"rate limit of {found.rate_per_minute} requests a minute reached",
                                headers={"Retry-After": str(max(1, round(wait)))})
        return found

    @api.middleware("http")
    async def limit_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and int(length) > MAX_REQUEST_BYTES:
            return JSONResponse({"detail": f"request larger than {MAX_REQUEST_BYTES:,} bytes"}, status_code=413)
        return await call_next(request)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @api.post("/v1/verify", summary="Verify a file or a ContentVersion",
              responses={401: {"description": "bad API key"}, 413: {"description": "too large"},
                         429: {"description": "rate limited"}})
    async def verify(request: Request, key: ApiKey = Depends(caller)) -> dict:
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = await request.form(max_part_size=MAX_REQUEST_BYTES)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(422, "multipart requests carry the file in a part named 'file'")
            data = await upload.read()
            return _verify_upload(core_app(), engine_pool(), key, data, upload.filename or "upload",
                                  upload.content_type)
        try:
            body = VerifyById.model_validate(await request.json())
        except Exception as exc:
            raise HTTPException(422, f"send a file as multipart, or JSON {{'content_version_id': ...}}: {exc}")
        return _verify_version(core_app(), engine_pool(), key, body.content_version_id)

    return api


def _verify_upload(app: App, engines: Engines, key: ApiKey, data: bytes, name: str, mime: str | None) -> dict:
    """Register the upload as an item, scan it under a lease, record and return the verdict."""
    owner = f"api-{uuid.uuid4().hex[:8]}"
    item_id = items.register_item(app.uow(), actor=API_ACTOR, source="api", external_id=uuid.uuid4().hex,
                                  file_name=name[:500], declared_type=mime, size_bytes=len(data),
                                  provenance={"api_key": key.prefix, "api_key_name": key.name})
    from core.services.scanning import claim

    claim(app, owner=owner, limit=1, item_id=item_id)
    with engines.lease() as engine:
        outcome = engine.scan_bytes(data, file_name=name, declared_type=mime)
    state = items.record_scan_result(app.uow(), actor=SCANNER, item_id=item_id, outcome=outcome, lease_owner=owner)
    return {**outcome_report(name, outcome), "item_id": item_id, "state": state.value}


def _verify_version(app: App, engines: Engines, key: ApiKey, version_id: str) -> dict:
    """Fetch the version from the org (once), scan it unless the worker already has, return the verdict."""
    from core.queries.items import verdict_report
    from core.services import ingest
    from core.services.scanning import scan_item

    gw = app.salesforce()
    if gw is None:
        raise HTTPException(503, "no Salesforce org is configured for this installation")
    try:
        item_id = ingest.register_version(app, gw, version_id, media_dir=app.media_dir)
    except LookupError as exc:
        raise HTTPException(404, str(exc))
    with engines.lease() as engine:
        scan_item(app, engine, item_id, owner=f"api-{uuid.uuid4().hex[:8]}")
    report = verdict_report(app.db, item_id)
    if report is None:  # the worker holds it right now: say so rather than wait
        raise HTTPException(409, f"item {item_id} is being scanned by the worker; ask again in a few seconds",
                            headers={"Retry-After": "5"})
    return report
