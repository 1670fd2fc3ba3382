"""The objects and fields this org knows, with Salesforce's key prefixes and field properties.

Standard objects have a built-in schema (sf_emulator.schema_objects); the project's custom fields and
objects exist only once deployed from salesforce/ (sf_emulator.metadata). A field that is not deployed
does not exist: reading or writing it is refused as a real org refuses it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .schema_objects import FLS_STANDARD, OBJECTS, OWNED, PARENTS, SHARING, SYSTEM_FIELDS, SYSTEM_SUBSET

if TYPE_CHECKING:
    from .metadata import Deployment

# Fields whose relationship can point at more than one object: they resolve to the `Name` object.
POLYMORPHIC = {"OwnerId", "LinkedEntityId", "WhatId", "WhoId", "FirstPublishLocationId", "ParentId",
               "RelatedRecordId"}
_SPEC_TYPE = re.compile(r"^(\w+)(?:\((.*)\))?$")


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # id string textarea email double int boolean date datetime picklist reference base64
    createable: bool
    updateable: bool
    required: bool
    label: str = ""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    restricted_values: tuple[str, ...] | None = None  # a restricted picklist's values
    reference_to: str | None = None
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    custom: bool = False

    @property
    def text(self) -> bool:
        return self.type in ("string", "textarea", "email", "url", "phone")


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by lower-case name
    label: str = ""
    sharing: str = "Private"
    auto_number: str | None = None  # the Name field's display format, e.g. MV-{0000000}

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def add(self, fdef: FieldDef) -> None:
        self.fields[fdef.name.lower()] = fdef

    def fls_governed(self, fdef: FieldDef) -> bool:
        """Whether field-level security decides who sees and edits this field."""
        return fdef.custom or fdef.name.lower() in FLS_STANDARD.get(self.name, ())

    @property
    def parent_field(self) -> str | None:
        return PARENTS.get(self.name)


def label_of(name: str) -> str:
    """A standard field's label from its API name: ShareType -> Share Type, ContentDocumentId -> Content Document ID."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return spaced[:-2] + "ID" if spaced.endswith(" Id") else spaced


def parse_fields(spec: str) -> dict[str, FieldDef]:
    fields = {}
    for line in filter(None, spec.strip().splitlines()):
        name, ftype, flags = line.split()
        kind, arg = _SPEC_TYPE.match(ftype).groups()
        fdef = FieldDef(name, kind, "c" in flags, "u" in flags, "r" in flags, label=label_of(name),
                        custom=name.endswith("__c"))
        if kind == "picklist" and arg:
            fdef = replace(fdef, restricted_values=tuple(arg.split("|")))
        elif kind == "reference" and arg:
            fdef = replace(fdef, reference_to=arg)
        elif kind == "double" and arg:
            precision, scale = (int(n) for n in arg.split(","))
            fdef = replace(fdef, precision=precision, scale=scale)
        elif arg:
            fdef = replace(fdef, length=int(arg))
        fields[name.lower()] = fdef
    return fields


class Schema:
    """All object definitions of the org, looked up case-insensitively as SOQL does."""

    def __init__(self) -> None:
        self._objects: dict[str, ObjectDef] = {}
        self._by_prefix: dict[str, ObjectDef] = {}
        for name, (prefix, spec) in OBJECTS.items():
            self.define(name, prefix, spec, sharing=SHARING.get(name, "Private"))

    def define(self, name: str, key_prefix: str, spec: str = "", *, label: str = "", sharing: str = "Private",
               auto_number: str | None = None) -> ObjectDef:
        system = parse_fields(SYSTEM_FIELDS)
        if name in SYSTEM_SUBSET:
            system = {k: v for k, v in system.items() if v.name in SYSTEM_SUBSET[name]}
        obj = ObjectDef(name, key_prefix, {**system, **parse_fields(spec)},
                        label or name.removesuffix("__c").replace("_", " "), sharing, auto_number)
        self._objects[name.lower()] = obj
        self._by_prefix[key_prefix] = obj
        return obj

    def deploy(self, deployment: Deployment, prefixes: dict[str, str]) -> dict[str, str]:
        """Custom objects first (each with an owner and a name field), then every custom field. `prefixes`:
        the key prefix each custom object was given before, kept so stored ids keep their object; returns
        them with the new ones."""
        prefixes = dict(prefixes)
        for name, meta in deployment.objects.items():
            if self.get(name) is None:
                prefixes[name] = prefixes.get(name) or self.next_custom_prefix(taken=set(prefixes.values()))
                name_field = "Name string(80) -" if meta.auto_number else "Name string(80) cu"
                self.define(name, prefixes[name], f"{OWNED}{name_field}\n", label=meta.label,
                            sharing=meta.sharing, auto_number=meta.auto_number)
        for name, fields in deployment.fields.items():
            obj = self.get(name)
            for fdef in fields if obj is not None else ():
                obj.add(fdef)
        return prefixes

    def next_custom_prefix(self, taken: set[str]) -> str:
        """A fresh a0X key prefix for a custom object being deployed."""
        return next(f"a0{c}" for c in "ABCDEFGHIJLNOPQRSTUVWXYZ0123456789"
                    if f"a0{c}" not in self._by_prefix and f"a0{c}" not in taken)

    def get(self, name: str) -> ObjectDef | None:
        return self._objects.get(name.lower())

    def by_prefix(self, record_id: str) -> ObjectDef | None:
        return self._by_prefix.get(record_id[:3])

    def names(self) -> list[str]:
        return sorted(o.name for o in self._objects.values())
