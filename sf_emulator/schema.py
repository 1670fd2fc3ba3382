"""The objects and fields this org knows, with Salesforce's key prefixes and field properties.

Any field ending in `__c` is accepted on every object: it stands for the custom fields an admin deploys
from the project's metadata, whose API names are configurable in the product.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema_objects import OBJECTS, OWNED, SYSTEM_FIELDS

# ContentDocumentLink has no created/modified audit fields, only a modstamp.
_LINK_SYSTEM = {"Id", "IsDeleted", "SystemModstamp"}
# Fields whose relationship can point at more than one object: they resolve to the `Name` object.
POLYMORPHIC = {"OwnerId", "LinkedEntityId", "WhatId", "WhoId", "FirstPublishLocationId", "ParentId"}


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    createable: bool
    updateable: bool
    required: bool


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by lower-case name

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> FieldDef | None:
        """The field, or a synthesised custom field for any `__c` name; None when unknown."""
        found = self.fields.get(name.lower())
        if found is None and name.lower().endswith("__c"):
            return FieldDef(name, "any", True, True, False)
        return found


def _parse_fields(spec: str) -> dict[str, FieldDef]:
    fields = {}
    for line in filter(None, spec.strip().splitlines()):
        name, ftype, flags = line.split()
        fields[name.lower()] = FieldDef(name, ftype, "c" in flags, "u" in flags, "r" in flags)
    return fields


class Schema:
    """All object definitions of the org, looked up case-insensitively as SOQL does."""

    def __init__(self) -> None:
        self._objects: dict[str, ObjectDef] = {}
        for name, (prefix, spec) in OBJECTS.items():
            self.define(name, prefix, spec)

    def define(self, name: str, key_prefix: str, spec: str = "") -> ObjectDef:
        system = _parse_fields(SYSTEM_FIELDS)
        if name == "ContentDocumentLink":
            system = {k: v for k, v in system.items() if v.name in _LINK_SYSTEM}
        obj = ObjectDef(name, key_prefix, {**system, **_parse_fields(spec)})
        self._objects[name.lower()] = obj
        return obj

    def define_custom_object(self, name: str) -> ObjectDef:
        """Declare another custom object (as an admin deploying metadata would), with a fresh a0X prefix."""
        if not name.endswith("__c"):
            raise ValueError("custom object names end in __c")
        used = {o.key_prefix for o in self._objects.values()}
        prefix = next(f"a0{c}" for c in "ABCDEFGHIJLNOPQRSTUVWXYZ" if f"a0{c}" not in used)
        return self.define(name, prefix, OWNED + "Name string cu\n")

    def get(self, name: str) -> ObjectDef | None:
        return self._objects.get(name.lower())

    def by_prefix(self, record_id: str) -> ObjectDef | None:
        return next((o for o in self._objects.values() if o.key_prefix == record_id[:3]), None)

    def names(self) -> list[str]:
        return sorted(o.name for o in self._objects.values())
