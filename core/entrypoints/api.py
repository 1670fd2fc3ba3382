"""The verification API: `python -m core serve`. A synchronous check at the point of entry, for
Salesforce callouts and other systems. Every file it checks becomes an item like any other: kept in
the media store (a reviewer sees it, a rescan reads it) and scanned under the installation's scan
policy, with the worker's engines, detectors, admin overrides and quarantine choices.

The event loop only moves bytes. The body is counted as it streams and refused (413, and the
connection closed) the moment it passes the limit, whether a Content-Length was sent or not;
parsing, storing, the database and the scan run in worker threads."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio.from_thread
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from core.adapters.form_upload import BadUpload, read_upload
from core.adapters.media import TooLarge
from core.bootstrap import App, get_app
from core.commands import apikeys, items
from core.domain.errors import LeaseLost
from core.domain.roles import Actor
from core.loops import ingest, scanning
from core.models import ApiKey
from core.queries.items import verdict_report

API_ACTOR = Actor.system("api")
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the file
MAX_JSON_BYTES = 4 * 1024  # a ContentVersion id, and little else
VERDICT_WAIT_S = 10.0  # how long a request waits for another scanner's verdict before answering 409
CLOSE = {"Connection": "close"}  # after a refusal the rest of the body is not read


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


def create_app(app: App | None = None, *, verdict_wait_s: float = VERDICT_WAIT_S) -> FastAPI:
    state = {"app": app}

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        if state["app"] is not None:
            state["app"].scan_policy.close()

    api = FastAPI(title="Response Desk verification API", version="1", lifespan=lifespan,
                  description="Verify a file (multipart upload) or a Salesforce ContentVersion by id. "
                              "Authenticate with an `X-API-Key` header.")
    limiter = RateLimiter()

    def core_app() -> App:
        if state["app"] is None:
            state["app"] = get_app()
        return state["app"]

    def max_request_bytes() -> int:
        return core_app().scan_policy.max_file_bytes + MULTIPART_OVERHEAD_BYTES

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
    async def refuse_declared_oversize(request: Request, call_next):
        """A Content-Length over the limit is refused before the key check and before any reading."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_request_bytes():
            return JSONResponse({"detail": f"larger than the {max_request_bytes():,}-byte limit"},
                                status_code=413, headers=CLOSE)
        return await call_next(request)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @api.post("/v1/verify", summary="Verify a file or a ContentVersion",
              responses={401: {"description": "bad API key"}, 409: {"description": "being scanned elsewhere"},
                         413: {"description": "too large"}, 429: {"description": "rate limited"}})
    async def verify(request: Request, key: ApiKey = Depends(caller)) -> dict:
        content_type = request.headers.get("content-type", "")
        try:
            if content_type.startswith("multipart/"):
                body = _in_thread(_counted(request, max_request_bytes()))
                return await run_in_threadpool(_verify_upload, core_app(), key, body, content_type, verdict_wait_s)
            raw = b"".join([chunk async for chunk in _counted(request, MAX_JSON_BYTES)])
        except TooLarge as exc:
            raise HTTPException(413, f"larger than the {exc.limit:,}-byte limit", headers=CLOSE) from None
        except BadUpload as exc:
            raise HTTPException(422, str(exc)) from None
        try:
            version_id = VerifyById.model_validate_json(raw).content_version_id
        except ValidationError as exc:
            raise HTTPException(422, f"send a file as multipart, or JSON {{'content_version_id': ...}}: {exc}") from None
        return await run_in_threadpool(_verify_version, core_app(), version_id, verdict_wait_s)

    return api


async def _counted(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives, refused the moment it passes `limit` bytes."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise TooLarge(limit)
        yield chunk


def _in_thread(body: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body for code in a worker thread: each chunk is awaited on the event loop."""
    while True:
        try:
            yield anyio.from_thread.run(body.__anext__)
        except StopAsyncIteration:
            return


def _verify_upload(app: App, key: ApiKey, body: Iterator[bytes], content_type: str, wait_s: float) -> dict:
    """Keep the upload in the media store, register it as an item, and scan it."""
    upload = read_upload(body, content_type, app.media, app.scan_policy.max_file_bytes)
    item_id = items.register_item(app.uow(), actor=API_ACTOR, source="api", external_id=uuid.uuid4().hex,
                                  file_name=upload.file_name[:500], declared_type=upload.content_type,
                                  size_bytes=upload.stored.size, sha256=upload.stored.sha256,
                                  storage_path=str(upload.stored.path),
                                  provenance={"api_key": key.prefix, "api_key_name": key.name})
    return _verdict(app, item_id, wait_s)


def _verify_version(app: App, version_id: str, wait_s: float) -> dict:
    """Fetch the version from the org (once), and scan it unless a scanner already has."""
    gw = app.salesforce()
    if gw is None:
        raise HTTPException(503, "no Salesforce org is configured for this installation")
    try:
        item_id = ingest.register_version(app, gw, version_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return _verdict(app, item_id, wait_s)


def _verdict(app: App, item_id: int, wait_s: float) -> dict:
    """Scan the item now. When another scanner holds it (the worker, another request) wait up to
    `wait_s` for its verdict, then answer 409 with Retry-After: a lease this request does not hold
    is never recorded under."""
    try:
        scanning.scan_item(app, item_id, owner=f"api-{uuid.uuid4().hex[:8]}")
    except LeaseLost:
        pass  # another scanner took the item over mid-scan: its verdict is the one that counts
    deadline = time.monotonic() + wait_s
    while (report := verdict_report(app.db, item_id)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if report is None:
        raise HTTPException(409, f"item {item_id} is being scanned elsewhere; ask again in a few seconds",
                            headers={"Retry-After": "5"})
    return report
