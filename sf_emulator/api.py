"""REST resources for records: query, sObject rows, blob download, describe, limits."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import crud
from .errors import SalesforceError, not_found
from .ids import looks_like_id
from .results import batch_size, record_body
from .web import access_of, api_version, emulator, in_org, json_body, sf_json

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
        emu.org, text, include_deleted=include_deleted, version=api_version(request), batch=batch,
        access=access_of(request)))
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
    record_id = in_org(request, lambda: org.create(sobject, body, access=access_of(request)))
    return sf_json({"id": record_id, "success": True, "errors": []}, 201)


async def record(request: Request) -> Response:
    org, sobject, record_id = emulator(request).org, request.path_params["sobject"], request.path_params["record_id"]
    access = access_of(request)
    if request.method == "GET":
        if record_id == "describe":
            return sf_json(describe(org, sobject, access))
        found = in_org(request, lambda: crud.readable_record(org, record_id, sobject, access))
        fields = request.query_params.get("fields")
        return sf_json(record_body(org, found, api_version(request), access, fields.split(",") if fields else None))
    if request.method == "PATCH":
        body = await json_body(request)
        in_org(request, lambda: org.update(_typed_id(org, sobject, record_id), body, access=access))
        return Response(status_code=204)
    in_org(request, lambda: org.delete(_typed_id(org, sobject, record_id), access=access))
    return Response(status_code=204)


async def record_part(request: Request) -> Response:
    """`/sobjects/{type}/{id}/{blobField}` downloads a blob; `/sobjects/{type}/{extField}/{value}` reads or
    upserts by external id."""
    org, sobject, access = emulator(request).org, request.path_params["sobject"], access_of(request)
    first, second = request.path_params["first"], request.path_params["second"]
    obj = crud.object_def(org, sobject, access)
    blob_field = obj.field(second)
    if looks_like_id(first) and blob_field is not None and blob_field.type == "base64":
        if request.method != "GET":
            raise SalesforceError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                                  "Allowed are GET,HEAD")
        found = in_org(request, lambda: crud.readable_record(org, first, sobject, access))
        data = emulator(request).org.store.blob(found["Id"]) or b""
        chunks = (data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK))
        return StreamingResponse(chunks, media_type="application/octet-stream")
    if request.method == "GET":
        found = in_org(request, lambda: _by_external_id(org, obj.name, first, second, access))
        return sf_json(record_body(org, found, api_version(request), access))
    if request.method == "PATCH":
        body = await json_body(request)
        record_id, created = in_org(request, lambda: org.upsert(obj.name, first, second, body, access=access))
        return sf_json({"id": record_id, "success": True, "errors": [], "created": created}, 201 if created else 200)
    found = in_org(request, lambda: _by_external_id(org, obj.name, first, second, access))
    in_org(request, lambda: org.delete(found["Id"], access=access))
    return Response(status_code=204)


async def sobject_info(request: Request) -> Response:
    info = describe(emulator(request).org, request.path_params["sobject"], access_of(request))
    return sf_json({"objectDescribe": {k: v for k, v in info.items() if k != "fields"}, "recentItems": []})


async def global_describe(request: Request) -> Response:
    org, access = emulator(request).org, access_of(request)
    names = [n for n in org.schema.names() if access.can(org.schema.get(n), "read")]
    return sf_json({"encoding": "UTF-8", "maxBatchSize": 200,
                    "sobjects": [{k: v for k, v in describe(org, n, access).items() if k != "fields"} for n in names]})


async def limits(request: Request) -> Response:
    used, limit = emulator(request).org.api_usage
    return sf_json({"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
                    "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                    "FileStorageMB": {"Max": 10240, "Remaining": 10240}})


def describe(org, sobject: str, access) -> dict:
    """The object as the caller sees it: only the fields its field-level security shows, createable and
    updateable only where it may write them (REST API Developer Guide, "sObject Describe")."""
    obj = crud.object_def(org, sobject, access)
    fields = [_describe_field(obj, f, access) for f in obj.fields.values() if access.sees_field(obj, f)]
    return {"name": obj.name, "label": obj.label, "keyPrefix": obj.key_prefix, "custom": obj.custom,
            "createable": access.can(obj, "create"), "updateable": access.can(obj, "edit"),
            "deletable": access.can(obj, "delete"), "queryable": True, "fields": fields}


def _describe_field(obj, fdef, access) -> dict:
    writable = access.edits_field(obj, fdef)
    return {"name": fdef.name, "label": fdef.label, "type": fdef.type, "length": fdef.length or 0,
            "precision": fdef.precision or 0, "scale": fdef.scale or 0, "custom": fdef.custom,
            "createable": fdef.createable and writable, "updateable": fdef.updateable and writable,
            "nillable": not fdef.required, "externalId": fdef.external_id, "unique": fdef.unique,
            "restrictedPicklist": fdef.restricted_values is not None,
            "picklistValues": [{"value": v, "label": v, "active": True} for v in fdef.restricted_values or ()],
            "referenceTo": [fdef.reference_to] if fdef.reference_to else []}


def _typed_id(org, sobject: str, record_id: str) -> str:
    return crud.live_record(org, record_id, sobject)["Id"]


def _by_external_id(org, sobject: str, field: str, value: str, access) -> dict:
    found = [r for r in org.records(sobject) if str(crud.field_value(r, field)) == value and access.reads(r)]
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
