"""sObject Collections: create, update, upsert by external id and delete, up to 200 records a call."""
from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import crud
from .errors import RequestError, SalesforceError, rolled_back
from .web import access_of, emulator, in_org, json_body, sf_json

MAX_RECORDS = 200


class _RollBack(Exception):
    """Raised inside the outer transaction so that an allOrNone request leaves no trace."""


async def create_many(request: Request) -> Response:
    records, all_or_none = await _records(request)
    access = access_of(request)

    def create_one(item: dict) -> dict:
        sobject = _type_of(item)
        if any(k.lower() == "id" for k in item):
            raise SalesforceError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return {"id": crud.create_record(emulator(request).org, sobject, _fields(item), access),
                "success": True, "errors": []}

    return sf_json(_each(request, records, create_one, all_or_none))


async def update_many(request: Request) -> Response:
    records, all_or_none = await _records(request)
    access = access_of(request)

    def update_one(item: dict) -> dict:
        record_id = _item_id(item)
        if not record_id:
            raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        values = {k: v for k, v in _fields(item).items() if k.lower() != "id"}
        crud.update_record(emulator(request).org, record_id, values, access, _type_of(item))
        return {"id": crud.live_record(emulator(request).org, record_id)["Id"], "success": True, "errors": []}

    return sf_json(_each(request, records, update_one, all_or_none, id_key="id"))


async def upsert_many(request: Request) -> Response:
    records, all_or_none = await _records(request)
    sobject, field = request.path_params["sobject"], request.path_params["field"]
    crud.object_def(emulator(request).org, sobject, access_of(request))
    access = access_of(request)

    def upsert_one(item: dict) -> dict:
        if _type_of(item).lower() != sobject.lower():
            raise SalesforceError(400, "INVALID_TYPE", f"This request only accepts records of type {sobject}")
        values = _fields(item)
        key = next((k for k in values if k.lower() == field.lower()), None)
        if key is None or values[key] in (None, ""):
            raise SalesforceError(400, "MISSING_ARGUMENT", f"{field} not specified", [field])
        record_id, created = crud.upsert_record(emulator(request).org, sobject, field, values[key], values, access)
        return {"id": record_id, "success": True, "errors": [], "created": created}

    return sf_json(_each(request, records, upsert_one, all_or_none))


async def delete_many(request: Request) -> Response:
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"
    if not ids:
        raise SalesforceError(400, "MISSING_ARGUMENT", "ids parameter is required")
    _check_size(ids)
    access = access_of(request)

    def delete_one(record_id: str) -> dict:
        found = crud.live_record(emulator(request).org, record_id)
        crud.delete_record(emulator(request).org, found["Id"], access)
        return {"id": found["Id"], "success": True, "errors": []}

    return sf_json(_each(request, ids, delete_one, all_or_none, id_key=None, ids=ids))


def _each(request: Request, items: list, action: Callable[[object], dict], all_or_none: bool,
          id_key: str | None = None, ids: list[str] | None = None) -> list[dict]:
    """Apply `action` to every item in one transaction, with a savepoint per item."""
    store = emulator(request).org.store
    results: list[dict] = []

    def run_all() -> None:
        with store.transaction():
            for n, item in enumerate(items):
                try:
                    with store.transaction():
                        results.append(action(item))
                except RequestError:
                    # The request is not well formed: 400 for the whole call, nothing saved (REST API Developer
                    # Guide, "Update Records Using sObject Collections",
                    # https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-update.html).
                    raise
                except SalesforceError as error:
                    failed = {"success": False, "errors": [error.record_error()]}
                    known_id = ids[n] if ids else _item_id(item) if id_key else None
                    results.append({"id": known_id, **failed} if known_id else failed)
            if all_or_none and any(not r["success"] for r in results):
                raise _RollBack()

    try:
        in_org(request, run_all)
    except _RollBack:
        request.scope["sf"]["effects"].clear()
        rolled = rolled_back().record_error()
        results = [r if not r["success"] else {**({"id": r["id"]} if id_key or ids else {}), "success": False,
                                                "errors": [rolled]} for r in results]
    return results


async def _records(request: Request) -> tuple[list[dict], bool]:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be an object with a records list")
    _check_size(body["records"])
    return body["records"], bool(body.get("allOrNone", False))


def _check_size(items: list) -> None:
    if len(items) > MAX_RECORDS:
        raise SalesforceError(400, "EXCEEDED_ID_LIMIT",
                              f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call")


def _type_of(item: object) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict) or not item["attributes"].get("type"):
        raise SalesforceError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    return item["attributes"]["type"]


def _item_id(item: object) -> str | None:
    return next((v for k, v in item.items() if k.lower() == "id"), None) if isinstance(item, dict) else None


def _fields(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "attributes"}


PREFIX = "/services/data/v{version}/composite/sobjects"
ROUTES = [
    Route(PREFIX, create_many, methods=["POST"]),
    Route(PREFIX, update_many, methods=["PATCH"]),
    Route(PREFIX, delete_many, methods=["DELETE"]),
    Route(PREFIX + "/{sobject}/{field}", upsert_many, methods=["PATCH"]),
]
