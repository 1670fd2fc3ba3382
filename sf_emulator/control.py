"""Control endpoints under /__emulator: the request log, faults, sessions, limits, emails, uploads.
They are what the demo's traffic generator and out-of-process tests use; in-process tests can use the
`Emulator` object directly. They never count as API calls and need no session."""
from __future__ import annotations

import base64
import dataclasses

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .clock import parse_datetime
from .errors import SalesforceError
from .web import emulator, json_body

_FAULT_KEYS = {"kind", "method", "path", "times", "probability", "after", "delay_ms", "phase"}


async def health(request: Request) -> Response:
    emu = emulator(request)
    return JSONResponse({"ok": True, "base_url": emu.base_url, "ca_path": str(emu.ca_path)})


async def requests_log(request: Request) -> Response:
    log = emulator(request).request_log
    if request.method == "DELETE":
        log.clear()
        return Response(status_code=204)
    return JSONResponse(log.as_json(int(request.query_params.get("since", 0))))


async def faults(request: Request) -> Response:
    injector = emulator(request).faults
    if request.method == "POST":
        body = await json_body(request)
        if not isinstance(body, dict) or not set(body) <= _FAULT_KEYS or "kind" not in body:
            return JSONResponse({"error": f"expected an object with keys among {sorted(_FAULT_KEYS)}"}, 400)
        try:
            rule = injector.add(**body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(dataclasses.asdict(rule), 201)
    if request.method == "DELETE":
        injector.clear()
        return Response(status_code=204)
    return JSONResponse(injector.rules())


async def fault(request: Request) -> Response:
    emulator(request).faults.remove(int(request.path_params["rule_id"]))
    return Response(status_code=204)


async def expire_sessions(request: Request) -> Response:
    return JSONResponse({"expired": emulator(request).org.sessions.expire_all()})


async def limits(request: Request) -> Response:
    org = emulator(request).org
    if request.method == "POST":
        body = await json_body(request) or {}
        org.set_api_usage(used=body.get("used"), limit=body.get("limit"))
    used, limit = org.api_usage
    return JSONResponse({"used": used, "limit": limit})


async def emails(request: Request) -> Response:
    return JSONResponse(emulator(request).org.emails)


async def upload(request: Request) -> Response:
    """Attach a file as a given user to a given record, as if uploaded in the Salesforce UI.
    Body: username or user_id, record_id, path_on_client, data_base64, optional title and created_date."""
    org = emulator(request).org
    body = await json_body(request)
    if not isinstance(body, dict):
        return JSONResponse({"error": "expected a JSON object"}, 400)
    user = org.user_by_username(body["username"]) if body.get("username") else org.get(body.get("user_id", ""))
    if user is None:
        return JSONResponse({"error": "unknown user"}, 400)
    when = parse_datetime(body["created_date"]) if body.get("created_date") else None
    try:
        version_id = org.upload_file(user_id=user["Id"], record_id=body.get("record_id"),
                                     path_on_client=body["path_on_client"], title=body.get("title"),
                                     data=base64.b64decode(body["data_base64"]), when=when)
    except (KeyError, ValueError) as exc:
        return JSONResponse({"error": f"bad upload: {exc}"}, 400)
    except SalesforceError as error:
        return JSONResponse(error.rest_body(), error.status)
    version = org.get(version_id)
    return JSONResponse({"contentVersionId": version_id, "contentDocumentId": version["ContentDocumentId"]}, 201)


ROUTES = [
    Route("/__emulator/health", health, methods=["GET"]),
    Route("/__emulator/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/__emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/__emulator/faults/{rule_id:int}", fault, methods=["DELETE"]),
    Route("/__emulator/sessions/expire", expire_sessions, methods=["POST"]),
    Route("/__emulator/limits", limits, methods=["GET", "POST"]),
    Route("/__emulator/emails", emails, methods=["GET"]),
    Route("/__emulator/files", upload, methods=["POST"]),
]
