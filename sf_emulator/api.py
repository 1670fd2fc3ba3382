"""REST resources for records: query, sObject rows, blob download, describe, limits."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import crud
from .errors import SalesforceError, not_found
from .ids import looks_like_id
from .results import batch_size, record_body
from .web import api_version, emulator, in_org, json_body, session_user, sf_json

_CHUNK = 64 * 1024


async def resources(request: Request) -> Response:
    base = f"/services/data/v{api_version(request)}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "actions")
    return sf_json({name: f"{base}/{name}" for name in names})


async def query(request: Request) -> Response:
    text = request.query_params.get("q")
    if not text:
        raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
    emu = emulator(request)
    batch = batch_size(request.headers.get("sforce-query-options"))
    include_deleted = request.url.path.rstrip("/").endswith("queryAll")
    result = in_org(request, lambda: emu.cursors.execute(
        emu.org, text, include_deleted=include_deleted, version=api_version(request), batch=batch))
    return sf_json(result)


async def query_more(request: Request) -> Response:
    endpoint = "queryAll" if "/queryAll/" in request.url.path else "query"
    result = emulator(request).cursors.more(request.path_params["locator"], api_version(request), endpoint)
    return sf_json(result)


async def create(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from input")
    org, sobject = emulator(request).org, request.path_params["sobject"]
    record_id = in_org(request, lambda: org.create(sobject, body, user_id=session_user(request)))
    return sf_json({"id": record_id, "success": True, "errors": []}, 201)


async def record(request: Request) -> Response:
    org, sobject, record_id = emulator(request).org, request.path_params["sobject"], request.path_params["record_id"]
    if request.method == "GET":
        if record_id == "describe":
            return sf_json(describe(org, sobject))
        found = in_org(request, lambda: crud.live_record(org, record_id, sobject))
        fields = request.query_params.get("fields")
        return sf_json(record_body(org, found, api_version(request), fields.split(",") if fields else None))
    if request.method == "PATCH":
        body = await json_body(request)
        in_org(request, lambda: org.update(_typed_id(org, sobject, record_id), body, user_id=session_user(request)))
        return Response(status_code=204)
    in_org(request, lambda: org.delete(_typed_id(org, sobject, record_id), user_id=session_user(request)))
    return Response(status_code=204)


async def record_part(request: Request) -> Response:
    """`/sobjects/{type}/{id}/{blobField}` downloads a blob; `/sobjects/{type}/{extField}/{value}` reads or
    upserts by external id."""
    org, sobject = emulator(request).org, request.path_params["sobject"]
    first, second = request.path_params["first"], request.path_params["second"]
    obj = crud.object_def(org, sobject)
    blob_field = obj.field(second)
    if looks_like_id(first) and blob_field is not None and blob_field.type == "base64":
        if request.method != "GET":
            raise SalesforceError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                                  "Allowed are GET,HEAD")
        found = in_org(request, lambda: crud.live_record(org, first, sobject))
        data = emulator(request).org.store.blob(found["Id"]) or b""
        chunks = (data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK))
        return StreamingResponse(chunks, media_type="application/octet-stream")
    if request.method == "GET":
        found = in_org(request, lambda: _by_external_id(org, obj.name, first, second))
        return sf_json(record_body(org, found, api_version(request)))
    if request.method == "PATCH":
        body = await json_body(request)
        record_id, created = in_org(request, lambda: org.upsert(obj.name, first, second, body,
                                                                user_id=session_user(request)))
        return sf_json({"id": record_id, "success": True, "errors": [], "created": created}, 201 if created else 200)
    found = in_org(request, lambda: _by_external_id(org, obj.name, first, second))
    in_org(request, lambda: org.delete(found["Id"], user_id=session_user(request)))
    return Response(status_code=204)


async def sobject_info(request: Request) -> Response:
    info = describe(emulator(request).org, request.path_params["sobject"])
    return sf_json({"objectDescribe": {k: v for k, v in info.items() if k != "fields"}, "recentItems": []})


async def global_describe(request: Request) -> Response:
    org = emulator(request).org
    return sf_json({"encoding": "UTF-8", "maxBatchSize": 200,
                    "sobjects": [{k: v for k, v in describe(org, n).items() if k != "fields"}
                                 for n in org.schema.names()]})


async def limits(request: Request) -> Response:
    used, limit = emulator(request).org.api_usage
    return sf_json({"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
                    "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                    "FileStorageMB": {"Max": 10240, "Remaining": 10240}})


def describe(org, sobject: str) -> dict:
    obj = crud.object_def(org, sobject)
    custom = {k for r in org.store.of_type(obj.name) for k in r if k.endswith("__c")}
    fields = [{"name": f.name, "type": f.type, "createable": f.createable, "updateable": f.updateable,
               "nillable": not f.required, "custom": False} for f in obj.fields.values()]
    fields += [{"name": name, "type": "string", "createable": True, "updateable": True, "nillable": True,
                "custom": True} for name in sorted(custom)]
    return {"name": obj.name, "label": obj.name.replace("__c", "").replace("_", " "), "keyPrefix": obj.key_prefix,
            "custom": obj.custom, "createable": True, "updateable": True, "deletable": True, "queryable": True,
            "fields": fields}


def _typed_id(org, sobject: str, record_id: str) -> str:
    return crud.live_record(org, record_id, sobject)["Id"]


def _by_external_id(org, sobject: str, field: str, value: str) -> dict:
    found = [r for r in org.records(sobject) if str(crud.field_value(r, field)) == value]
    if not found:
        raise not_found()
    if len(found) > 1:
        raise SalesforceError(300, "MULTIPLE_CHOICES", f"More than one record found for {field}={value}")
    return found[0]


PREFIX = "/services/data/v{version}"
ROUTES = [
    Route(PREFIX, resources, methods=["GET"]),
    Route(PREFIX + "/", resources, methods=["GET"]),
    Route(PREFIX + "/limits", limits, methods=["GET"]),
    Route(PREFIX + "/limits/", limits, methods=["GET"]),
    *[Route(PREFIX + path, query, methods=["GET"]) for path in ("/query", "/query/", "/queryAll", "/queryAll/")],
    Route(PREFIX + "/query/{locator}", query_more, methods=["GET"]),
    Route(PREFIX + "/queryAll/{locator}", query_more, methods=["GET"]),
    Route(PREFIX + "/sobjects", global_describe, methods=["GET"]),
    Route(PREFIX + "/sobjects/", global_describe, methods=["GET"]),
    Route(PREFIX + "/sobjects/{sobject}", sobject_info, methods=["GET"]),
    Route(PREFIX + "/sobjects/{sobject}", create, methods=["POST"]),
    Route(PREFIX + "/sobjects/{sobject}/", create, methods=["POST"]),
    Route(PREFIX + "/sobjects/{sobject}/{record_id}", record, methods=["GET", "PATCH", "DELETE"]),
    Route(PREFIX + "/sobjects/{sobject}/{first}/{second}", record_part, methods=["GET", "PATCH", "DELETE"]),
]
