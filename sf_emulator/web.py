"""Helpers the route modules share: the emulator behind a request, JSON bodies, Salesforce errors."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import SalesforceError

if TYPE_CHECKING:
    from .access import Access
    from .emulator import Emulator

T = TypeVar("T")


def emulator(request: Request) -> Emulator:
    return request.app.state.emulator


def session_user(request: Request) -> str:
    return request.scope["sf"]["user_id"]


def access_of(request: Request) -> Access:
    """What the session's user may see and change, worked out once per request."""
    sf = request.scope["sf"]
    if "access" not in sf:
        sf["access"] = emulator(request).org.access(sf["user_id"])
    return sf["access"]


def api_version(request: Request) -> str:
    return request.path_params["version"]


async def json_body(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character: was expecting a JSON value "
                              f"at [line:{exc.lineno}, column:{exc.colno}]") from None


def in_org(request: Request, action: Callable[[], T]) -> T:
    """Run one request's work on the org, collecting its writes for the request log."""
    org = emulator(request).org
    with org.capturing_effects() as effects:
        result = action()  # an error rolls its writes back: nothing to log
        request.scope["sf"]["effects"].extend(effects)
        return result


def sf_json(body: object, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status)


def error_response(error: SalesforceError) -> Response:
    return JSONResponse(error.rest_body(), status_code=error.status)
