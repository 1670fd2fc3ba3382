"""Query results in Salesforce's shape, paged through query locators (`nextRecordsUrl`)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from .errors import SalesforceError
from .ids import IdFactory
from .query import NAME_FIELDS, Resolver, run
from .soql import FieldRef

if TYPE_CHECKING:
    from .access import Access
    from .org import Org

DEFAULT_BATCH = 2000
_CURSOR_TTL_SECONDS = 15 * 60
_MAX_CURSORS = 200


def batch_size(header: str | None) -> int:
    """`Sforce-Query-Options: batchSize=N`: Salesforce honours 200..2000 and clamps the rest."""
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(200, min(DEFAULT_BATCH, int(value)))
    return DEFAULT_BATCH


class QueryCursors:
    def __init__(self) -> None:
        self._cursors: OrderedDict[str, tuple[list[dict], int, float]] = OrderedDict()
        self._ids = IdFactory()
        self._lock = threading.Lock()

    def execute(self, org: Org, text: str, *, include_deleted: bool, version: str, batch: int, access: Access) -> dict:
        query, resolver, rows = run(org, text, include_deleted=include_deleted, access=access)
        if query.count is True:
            return {"totalSize": len(rows), "done": True, "records": []}
        if isinstance(query.count, FieldRef):
            counted = sum(1 for r in rows if resolver.value(r, query.count) is not None)
            return {"totalSize": 1, "done": True, "records": [
                {"attributes": {"type": "AggregateResult"}, "expr0": counted}]}
        rendered = [render(resolver, r, query.fields, version) for r in rows]
        return self._page(rendered, 0, batch, version, endpoint="queryAll" if include_deleted else "query")

    def more(self, locator: str, version: str, endpoint: str) -> dict:
        cursor_id, _, offset = locator.rpartition("-")
        with self._lock:
            entry = self._cursors.get(cursor_id)
            if entry is None or not offset.isdigit() or time.monotonic() - entry[2] > _CURSOR_TTL_SECONDS:
                raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            self._cursors[cursor_id] = (entry[0], entry[1], time.monotonic())
        rows, batch, _ = entry
        return self._page(rows, int(offset), batch, version, endpoint, cursor_id)

    def _page(self, rows: list[dict], start: int, batch: int, version: str, endpoint: str,
              cursor_id: str | None = None) -> dict:
        end = start + batch
        if end >= len(rows):
            return {"totalSize": len(rows), "done": True, "records": rows[start:]}
        with self._lock:
            if cursor_id is None:
                cursor_id = self._ids.next_id("01g")
                self._cursors[cursor_id] = (rows, batch, time.monotonic())
                while len(self._cursors) > _MAX_CURSORS:
                    self._cursors.popitem(last=False)
        return {"totalSize": len(rows), "done": False,
                "nextRecordsUrl": f"/services/data/v{version}/{endpoint}/{cursor_id}-{end}",
                "records": rows[start:end]}


def render(resolver: Resolver, record: dict, fields: list[FieldRef], version: str) -> dict:
    out = {"attributes": _attributes(record, version)}
    for ref in fields:
        fdef, target = resolver.check(ref)
        if len(ref.path) == 1:
            out[_stored_name(record, fdef.name)] = _value(record, fdef.name, fdef.type, version)
            continue
        rel = fdef.name[:-2] if fdef.name.endswith("Id") else fdef.name[:-3] + "__r"
        parent = resolver.parent(record, ref)
        if parent is None:
            out[rel] = None
            continue
        nested = out.get(rel) or {"attributes": _attributes(parent, version, "Name" if target == "Name" else None)}
        child = _child_name(resolver, target, ref.path[1], parent)
        nested[child] = resolver.parent_value(parent, ref.path[1], polymorphic=target == "Name")
        out[rel] = nested
    return out


def record_body(org: Org, record: dict, version: str, access: Access, fields: list[str] | None = None) -> dict:
    """A record as `GET /sobjects/{type}/{id}` returns it: the fields the caller's field-level security shows."""
    obj = org.schema.get(record["attributes"]["type"])
    wanted = {f.lower() for f in fields} if fields else None
    out = {"attributes": _attributes(record, version)}
    for name in record:
        fdef = obj.field(name)
        if fdef is None or (wanted and name.lower() not in wanted) or not access.sees_field(obj, fdef):
            continue
        out[name] = _value(record, name, fdef.type, version)
    return out


def _attributes(record: dict, version: str, type_name: str | None = None) -> dict:
    sobject = record["attributes"]["type"]
    return {"type": type_name or sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}"}


def _value(record: dict, name: str, ftype: str, version: str) -> object:
    if ftype == "base64":
        sobject = record["attributes"]["type"]
        return f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}/{name}"
    from .crud import field_value

    return field_value(record, name)


def _stored_name(record: dict, name: str) -> str:
    lowered = name.lower()
    return next((k for k in record if k.lower() == lowered), name)


def _child_name(resolver: Resolver, target: str | None, name: str, parent: dict) -> str:
    if target == "Name":
        return next((f for f in NAME_FIELDS if f.lower() == name.lower()), name)
    obj = resolver.org.schema.get(target or parent["attributes"]["type"])
    fdef = obj.field(name) if obj else None
    return _stored_name(parent, fdef.name if fdef else name)
