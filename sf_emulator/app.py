"""The ASGI application: request log, faults, session check and API metering around the routes."""
from __future__ import annotations

import asyncio
import re
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import actions, api, collections_api, control, public
from .emulator import Emulator
from .errors import SalesforceError, invalid_session, not_found, request_limit_exceeded, unavailable
from .faults import FaultRule
from .web import error_response

_API_PATH = re.compile(r"^/services/data/v\d+\.\d+(/|$)")


def build_app(emulator: Emulator) -> EmulatorASGI:
    routes = public.ROUTES + collections_api.ROUTES + actions.ROUTES + api.ROUTES + control.ROUTES
    app = Starlette(routes=routes, exception_handlers={
        SalesforceError: _salesforce_error, HTTPException: _http_error, Exception: _unexpected})
    app.state.emulator = emulator
    return EmulatorASGI(emulator, app)


async def _salesforce_error(request: Request, exc: Exception) -> Response:
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    if exc.status_code == 405:
        return error_response(SalesforceError(405, "METHOD_NOT_ALLOWED",
                                              f"HTTP Method '{request.method}' not allowed."))
    if exc.status_code == 404:
        return error_response(not_found())
    return error_response(SalesforceError(exc.status_code, "UNKNOWN_EXCEPTION", str(exc.detail)))


async def _unexpected(request: Request, exc: Exception) -> Response:
    return JSONResponse([{"message": f"An unexpected error occurred: {exc!r}", "errorCode": "UNKNOWN_EXCEPTION"}],
                        status_code=500)


class EmulatorASGI:
    def __init__(self, emulator: Emulator, routes_app: Starlette):
        self.emulator = emulator
        self.routes_app = routes_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.routes_app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        entry = self.emulator.request_log.begin(time.time(), method, path, scope["query_string"].decode("latin-1"))
        scope["sf"] = {"user_id": None, "effects": entry.effects}
        started = time.perf_counter()

        async def logged_send(message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            if path.startswith("/__emulator/"):
                await self.routes_app(scope, receive, logged_send)
            else:
                await self._serve(scope, receive, logged_send, send, entry)
        finally:
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 2)

    async def _serve(self, scope, receive, send, raw_send, entry) -> None:
        fault = await self._pick_fault(scope, entry)
        if fault and fault.phase == "before" and await self._fault_answers(fault, scope, receive, send, raw_send):
            return
        if _API_PATH.match(scope["path"]):
            send = await self._metered(scope, receive, send, entry)
            if send is None:
                return
        if fault and fault.phase == "after":  # the request takes effect, then its response is lost
            await self.routes_app(scope, receive, _discard)
            if fault.kind == "drop":
                await _drop_connection(raw_send)
            else:
                await self._error(scope, receive, send, unavailable())
            return
        await self.routes_app(scope, receive, send)

    async def _pick_fault(self, scope, entry) -> FaultRule | None:
        """Sleep for any matching delay; return the one other fault that hits this call, if any."""
        if not scope["path"].startswith("/services/"):
            return None
        hits = self.emulator.faults.pick(scope["method"], scope["path"])
        for rule in hits:
            if rule.kind == "delay":
                await asyncio.sleep(rule.delay_ms / 1000)
        fault = next((r for r in hits if r.kind != "delay"), None)
        entry.fault = fault.kind if fault else ("delay" if hits else None)
        return fault

    async def _fault_answers(self, fault: FaultRule, scope, receive, send, raw_send) -> bool:
        """Apply a before-the-request fault; True when it has answered (or dropped) the call."""
        if fault.kind == "drop":
            await _drop_connection(raw_send)
            return True
        if fault.kind in ("unavailable", "request_limit"):
            error = unavailable() if fault.kind == "unavailable" else request_limit_exceeded()
            await self._error(scope, receive, self._with_limit_header(send), error)
            return True
        self.emulator.org.sessions.expire_all()  # this call and every later one must sign in again
        return False

    async def _metered(self, scope, receive, send, entry):
        """Check the session and count the API call; the send to use, or None when refused."""
        org = self.emulator.org
        session = org.sessions.resolve(_bearer(scope))
        if session is None:
            await self._error(scope, receive, send, invalid_session())
            return None
        scope["sf"]["user_id"] = entry.user_id = session.user_id
        send = self._with_limit_header(send)
        try:
            org.count_api_call()
        except SalesforceError as error:
            await self._error(scope, receive, send, error)
            return None
        entry.api_call = True
        return send

    def _with_limit_header(self, send):
        async def with_header(message) -> None:
            if message["type"] == "http.response.start":
                used, limit = self.emulator.org.api_usage
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"sforce-limit-info", f"api-usage={used}/{limit}".encode())]}
            await send(message)
        return with_header

    @staticmethod
    async def _error(scope, receive, send, error: SalesforceError) -> None:
        await error_response(error)(scope, receive, send)


def _bearer(scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() in ("bearer", "oauth") else None
    return None


async def _discard(message) -> None:
    return None


async def _drop_connection(raw_send) -> None:
    """Close the socket without a response, as a failing load balancer would."""
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("cannot reach the transport to drop the connection")
    transport.abort()
    cycle.disconnected = True
    await asyncio.sleep(0)
