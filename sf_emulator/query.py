"""Running parsed SOQL against the org: field checks, filtering, ordering and rendering rows."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .access import Access
from .errors import SalesforceError
from .ids import to_18
from .query_values import compare_sort, matches
from .schema import POLYMORPHIC, FieldDef, ObjectDef
from .soql import BoolOp, Comparison, FieldRef, Not, Query, error_at, parse

if TYPE_CHECKING:
    from .org import Org

NAME_FIELDS = ("Id", "Name", "Type", "Email", "Username", "Alias", "FirstName", "LastName", "Title")
_LINK_RESTRICTION = ("Implementation restriction: ContentDocumentLink requires a filter by a single Id on "
                     "ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using "
                     "the IN operator.")


class Resolver:
    """Checks field paths against the schema and reads their values from records."""

    def __init__(self, org: Org, query: Query, access: Access):
        self.org = org
        self.query = query
        self.access = access
        self.obj = org.schema.get(query.sobject)
        # An object the user has no read permission on is as unknown to it as one that does not exist.
        if self.obj is None or not access.can(self.obj, "read"):
            raise error_at(query.text, query.sobject_pos, f"sObject type '{query.sobject}' is not supported. If you "
                           "are attempting to use a custom object, be sure to append the '__c' after the entity "
                           "name. Please reference your WSDL or the describe call for the appropriate names.",
                           "INVALID_TYPE")
        self._checked: dict[FieldRef, tuple[FieldDef, str | None]] = {}

    def check(self, ref: FieldRef) -> tuple[FieldDef, str | None]:
        """The field (or the reference field of a relationship) and the relationship's target object."""
        if ref not in self._checked:
            self._checked[ref] = self._check(ref)
        return self._checked[ref]

    def _check(self, ref: FieldRef) -> tuple[FieldDef, str | None]:
        if len(ref.path) == 1:
            return self._field(self.obj, ref, ref.path[0]), None
        reference = self._relationship(ref)
        target = "Name" if reference.name in POLYMORPHIC else reference.reference_to
        if target == "Name" and ref.path[1].lower() not in {f.lower() for f in NAME_FIELDS}:
            raise self._no_column(ref, ref.path[1], "Name")
        if target and target != "Name":
            self._field(self.org.schema.get(target), ref, ref.path[1])
        return reference, target

    def _field(self, obj: ObjectDef, ref: FieldRef, name: str) -> FieldDef:
        """A field the user's field-level security hides is reported exactly like one that does not exist."""
        found = obj.field(name)
        if found is None or not self.access.sees_field(obj, found):
            raise self._no_column(ref, name, obj.name)
        return found

    def _relationship(self, ref: FieldRef) -> FieldDef:
        rel = ref.path[0].lower()
        wanted = rel[:-3] + "__c" if rel.endswith("__r") else rel + "id"
        fdef = self.obj.field(wanted)
        if fdef is not None and fdef.type == "reference" and self.access.sees_field(self.obj, fdef):
            return fdef
        raise error_at(self.query.text, ref.pos, f"Didn't understand relationship '{ref.path[0]}' in field path. "
                       "If you are attempting to use a custom relationship, be sure to append the '__r' after "
                       "the custom relationship name. Please reference your WSDL or the describe call for the "
                       "appropriate names.", "INVALID_FIELD")

    def _no_column(self, ref: FieldRef, name: str, entity: str) -> SalesforceError:
        return error_at(self.query.text, ref.pos, f"No such column '{name}' on entity '{entity}'. If you are "
                        "attempting to use a custom field, be sure to append the '__c' after the custom field "
                        "name. Please reference your WSDL or the describe call for the appropriate names.",
                        "INVALID_FIELD")

    def value(self, record: dict, ref: FieldRef) -> object:
        from .crud import field_value

        if len(ref.path) == 1:
            return field_value(record, ref.path[0])
        parent = self.parent(record, ref)
        return None if parent is None else self.parent_value(parent, ref.path[1],
                                                             polymorphic=self.check(ref)[1] == "Name")

    def parent(self, record: dict, ref: FieldRef) -> dict | None:
        from .crud import field_value

        reference, _ = self.check(ref)
        parent_id = field_value(record, reference.name)
        parent = self.org.store.get(parent_id) if parent_id else None
        return parent if parent is not None and self.access.reads(parent) else None

    @staticmethod
    def parent_value(parent: dict, name: str, *, polymorphic: bool = False) -> object:
        """A parent's field. Through a polymorphic reference (LinkedEntity, WhatId) `Type` is the parent's
        object type, as in Salesforce, even when the object has a Type field of its own (Account)."""
        from .crud import field_value

        if name.lower() == "type" and (polymorphic or "Type" not in parent):
            return parent["attributes"]["type"]
        if name.lower() == "name" and "Name" not in parent:
            return parent.get("CaseNumber") or parent.get("Title")
        return field_value(parent, name)


def run(org: Org, text: str, *, include_deleted: bool, access: Access) -> tuple[Query, Resolver, list[dict]]:
    """Parse, check and evaluate; returns the matching records the caller may see, in result order."""
    query = parse(text)
    resolver = Resolver(org, query, access)
    for ref in query.fields + [o.field for o in query.order_by] + _where_fields(query.where):
        resolver.check(ref)
    if isinstance(query.count, FieldRef):
        resolver.check(query.count)
    _check_literal_types(query, resolver, query.where)
    name = resolver.obj.name
    if name == "ContentDocumentLink" and not access.queries_any_link() and not _pins(query.where, _LINK_KEYS):
        raise SalesforceError(400, "MALFORMED_QUERY", _LINK_RESTRICTION)
    if name == "UserPermissionAccess":
        rows = [access.permission_row()]
    else:
        rows = [r for r in org.store.of_type(name) if include_deleted or not r["IsDeleted"]]
        rows.sort(key=lambda r: r["Id"])
    if query.where is not None:
        rows = _narrow_by_ids(resolver, rows, query.where)
        rows = [r for r in rows if _holds(resolver, r, query.where)]
    if not access.is_system:
        named = _pins(query.where, _FILE_KEYS.get(name, ("id",)))
        rows = [r for r in rows if access.finds(r, named=named)]
    if query.order_by:
        rows.sort(key=functools.cmp_to_key(lambda a, b: _order(resolver, query, a, b)))
    start = query.offset or 0
    rows = rows[start:start + query.limit if query.limit is not None else None]
    return query, resolver, rows


def _narrow_by_ids(resolver: Resolver, rows: list[dict], where) -> list[dict]:
    """A cheap first pass for `IdField = 'x'` / `IdField IN (...)` at the top level of the WHERE
    clause (ids compared on their 15-character case-sensitive form, as Salesforce does). The full
    evaluation still runs on what is left, so results are the same, only sooner."""
    parts = where.parts if isinstance(where, BoolOp) and where.op == "AND" else (where,)
    for node in parts:
        if not isinstance(node, Comparison) or node.op not in ("=", "IN") or len(node.field.path) != 1:
            continue
        fdef, _ = resolver.check(node.field)
        literals = node.value if node.op == "IN" else (node.value,)
        if fdef.type not in ("id", "reference") or any(lit.kind != "string" for lit in literals):
            continue
        wanted = {str(lit.value)[:15] for lit in literals}
        rows = [r for r in rows if str(r.get(fdef.name) or "")[:15] in wanted]
    return rows


def _holds(resolver: Resolver, record: dict, node) -> bool:
    if isinstance(node, BoolOp):
        results = (_holds(resolver, record, part) for part in node.parts)
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Not):
        return not _holds(resolver, record, node.expr)
    fdef, _ = resolver.check(node.field)
    return matches(resolver.value(record, node.field), node.op, node.value,
                   is_id=fdef.type in ("id", "reference") and len(node.field.path) == 1, today=resolver.org.now())


def _order(resolver: Resolver, query: Query, a: dict, b: dict) -> int:
    for item in query.order_by:
        fdef, _ = resolver.check(item.field)
        is_id = fdef.type in ("id", "reference") and len(item.field.path) == 1
        result = compare_sort(resolver.value(a, item.field), resolver.value(b, item.field),
                              descending=item.descending, nulls_last=item.nulls_last, is_id=is_id)
        if result:
            return result
    return 0


def _where_fields(node) -> list[FieldRef]:
    if node is None:
        return []
    if isinstance(node, BoolOp):
        return [ref for part in node.parts for ref in _where_fields(part)]
    if isinstance(node, Not):
        return _where_fields(node.expr)
    return [node.field]


def _check_literal_types(query: Query, resolver: Resolver, node) -> None:
    for comparison in _comparisons(node):
        fdef, target = resolver.check(comparison.field)
        if len(comparison.field.path) == 2:
            obj = resolver.org.schema.get(target) if target and target != "Name" else None
            fdef = obj.field(comparison.field.path[1]) if obj else None
        values = comparison.value if isinstance(comparison.value, tuple) else (comparison.value,)
        for literal in values:
            if fdef and fdef.type == "datetime" and literal.kind in ("string", "date"):
                raise error_at(query.text, literal.pos, f"value of filter criterion for field '{fdef.name}' must "
                               "be of type dateTime and should not be enclosed in quotes", "INVALID_FIELD")
            if fdef and fdef.type in ("id", "reference") and literal.kind == "string" and literal.value:
                try:
                    to_18(literal.value)
                except ValueError:
                    raise error_at(query.text, literal.pos, f"invalid ID field: {literal.value}",
                                   "INVALID_QUERY_FILTER_OPERATOR") from None


def _comparisons(node) -> list[Comparison]:
    if node is None:
        return []
    if isinstance(node, BoolOp):
        return [c for part in node.parts for c in _comparisons(part)]
    if isinstance(node, Not):
        return _comparisons(node.expr)
    return [node]


_LINK_KEYS = ("contentdocumentid", "linkedentityid", "id")
# What names a file in a query: a file queried by its id is found even when only a record shares it.
_FILE_KEYS = {"ContentVersion": ("id", "contentdocumentid"), "ContentDocument": ("id",),
              "ContentDistribution": ("id", "contentdocumentid", "contentversionid")}


def _pins(node, keys: tuple[str, ...]) -> bool:
    """True when the WHERE clause pins one of `keys` with = or IN at the top level."""
    if node is None:
        return False
    parts = node.parts if isinstance(node, BoolOp) and node.op == "AND" else (node,)
    return any(isinstance(p, Comparison) and len(p.field.path) == 1 and p.op in ("=", "IN")
               and p.field.path[0].lower() in keys for p in parts)
