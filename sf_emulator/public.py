"""Endpoints reached without a session: the OAuth token endpoint and the list of API versions."""
from __future__ import annotations

import base64
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import OAuthError
from .oauth import issue_token
from .web import emulator, in_org

VERSIONS = ["58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0", "65.0"]
_RELEASES = ["Summer '23", "Winter '24", "Spring '24", "Summer '24", "Winter '25", "Spring '25", "Summer '25",
             "Winter '26"]


async def token(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    form.update({k: v for k, v in request.query_params.items() if k not in form})
    try:
        body = in_org(request, lambda: issue_token(emulator(request).org, form, emulator(request).base_url,
                                                   _basic_auth(request)))
    except OAuthError as error:
        return JSONResponse(error.body, status_code=error.status)
    return JSONResponse(body)


async def versions(request: Request) -> Response:
    return JSONResponse([{"label": label, "url": f"/services/data/v{v}", "version": v}
                         for v, label in zip(VERSIONS, _RELEASES)])


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return key, secret


ROUTES = [
    Route("/services/oauth2/token", token, methods=["POST"]),
    Route("/services/data", versions, methods=["GET"]),
    Route("/services/data/", versions, methods=["GET"]),
]
