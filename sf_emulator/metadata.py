"""The project's Salesforce metadata (salesforce/force-app, SFDX source format), read as a deployment
would apply it: custom fields with their type, length, precision and restricted picklist values; custom
objects with their sharing model and name field; permission sets with their user, object and field
permissions."""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree

from .schema import FieldDef

METADATA_DIR = Path(__file__).resolve().parent.parent / "salesforce" / "force-app" / "main" / "default"
_NS = "{http://soap.sforce.com/2006/04/metadata}"
# Metadata API field types (Metadata API Developer Guide, "CustomField") as the REST describe names them.
_TYPES = {"Text": "string", "TextArea": "textarea", "LongTextArea": "textarea", "Html": "textarea",
          "Email": "email", "Phone": "phone", "Url": "url", "Number": "double", "Currency": "double",
          "Percent": "double", "Checkbox": "boolean", "Date": "date", "DateTime": "datetime",
          "Picklist": "picklist", "Lookup": "reference", "MasterDetail": "reference"}
# Platform events (the event bus's) and custom metadata types (read by the Apex stand-ins) are not records.
_NOT_SOBJECTS = ("__e", "__mdt")
_FIXED_LENGTH = {"TextArea": 255, "Email": 80, "Phone": 40, "Url": 255}
# <sharingModel> values as the org-wide default they set (Setup > Sharing Settings).
_SHARING = {"Private": "Private", "Read": "Read", "ReadWrite": "ReadWrite", "FullAccess": "ReadWrite",
            "ControlledByParent": "ControlledByParent"}


@dataclass
class ObjectAccess:
    read: bool = False
    create: bool = False
    edit: bool = False
    delete: bool = False
    view_all: bool = False
    modify_all: bool = False


@dataclass
class PermissionSet:
    """A permission set, or a profile (Salesforce keeps a profile's permissions in a permission set too)."""

    name: str
    label: str = ""
    user_permissions: set[str] = field(default_factory=set)
    objects: dict[str, ObjectAccess] = field(default_factory=dict)  # lower-case object name
    fields: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # "object.field" lower-case: (read, edit)
    custom_permissions: set[str] = field(default_factory=set)
    all_fields_of: set[str] = field(default_factory=set)  # objects whose every field it grants; "*": all
    profile: bool = False


@dataclass
class CustomObject:
    name: str
    label: str
    sharing: str
    auto_number: str | None  # the Name field's display format when it is an AutoNumber
    fields: list[FieldDef] = field(default_factory=list)


@dataclass
class Deployment:
    objects: dict[str, CustomObject]  # objects the metadata defines (custom objects, custom settings)
    fields: dict[str, list[FieldDef]]  # custom fields by object, standard objects included
    permission_sets: dict[str, PermissionSet]
    custom_permissions: set[str]


def load(root: Path = METADATA_DIR) -> Deployment:
    """The deployment of `root`; a fresh copy each time, so an org may change its permission sets."""
    return copy.deepcopy(_parse(Path(root)))


@functools.lru_cache(maxsize=4)
def _parse(root: Path) -> Deployment:
    objects, fields = {}, {}
    for folder in sorted(p for p in (root / "objects").iterdir() if p.is_dir() and not p.name.endswith(_NOT_SOBJECTS)):
        fields[folder.name] = [_field(path) for path in sorted((folder / "fields").glob("*.field-meta.xml"))]
        definition = folder / f"{folder.name}.object-meta.xml"
        if definition.is_file():
            objects[folder.name] = _object(folder.name, _xml(definition))
    sets = {}
    for path in sorted((root / "permissionsets").glob("*.permissionset-meta.xml")):
        name = path.name.removesuffix(".permissionset-meta.xml")
        sets[name] = _permission_set(name, _xml(path))
    custom = {p.name.removesuffix(".customPermission-meta.xml")
              for p in (root / "customPermissions").glob("*.customPermission-meta.xml")}
    return Deployment(objects, fields, sets, custom)


def _xml(path: Path):
    return ElementTree.parse(path).getroot()


def _text(node, tag: str, default: str | None = None) -> str | None:
    found = node.find(f"{_NS}{tag}")
    return default if found is None or found.text is None else found.text.strip()


def _flag(node, tag: str) -> bool:
    return _text(node, tag, "false") == "true"


def _field(path: Path) -> FieldDef:
    node = _xml(path)
    kind, name = _text(node, "type"), _text(node, "fullName")
    length = _text(node, "length")
    values = None
    value_set = node.find(f"{_NS}valueSet")
    if kind == "Picklist" and value_set is not None and _flag(value_set, "restricted"):
        values = tuple(v.findtext(f"{_NS}fullName") for v in value_set.iter(f"{_NS}value"))
    precision, scale = _text(node, "precision"), _text(node, "scale")
    return FieldDef(
        name, _TYPES.get(kind, "string"), createable=True, updateable=True, required=_flag(node, "required"),
        label=_text(node, "label", name), length=int(length) if length else _FIXED_LENGTH.get(kind),
        precision=int(precision) if precision else None, scale=int(scale) if scale else None,
        restricted_values=values, reference_to=_text(node, "referenceTo"), external_id=_flag(node, "externalId"),
        unique=_flag(node, "unique"), case_sensitive=_flag(node, "caseSensitive"), custom=True)


def _object(name: str, node) -> CustomObject:
    name_field = node.find(f"{_NS}nameField")
    auto = None
    if name_field is not None and _text(name_field, "type") == "AutoNumber":
        auto = _text(name_field, "displayFormat")
    # A custom setting has no sharing model: every user with access to the setting reads it.
    sharing = _SHARING.get(_text(node, "sharingModel") or "Read", "Private")
    return CustomObject(name, _text(node, "label", name), sharing, auto)


def _permission_set(name: str, node) -> PermissionSet:
    ps = PermissionSet(name, _text(node, "label", name))
    for grant in node.findall(f"{_NS}userPermissions"):
        if _flag(grant, "enabled"):
            ps.user_permissions.add(_text(grant, "name"))
    for grant in node.findall(f"{_NS}customPermissions"):
        if _flag(grant, "enabled"):
            ps.custom_permissions.add(_text(grant, "name"))
    for grant in node.findall(f"{_NS}objectPermissions"):
        ps.objects[_text(grant, "object").lower()] = ObjectAccess(
            _flag(grant, "allowRead"), _flag(grant, "allowCreate"), _flag(grant, "allowEdit"),
            _flag(grant, "allowDelete"), _flag(grant, "viewAllRecords"), _flag(grant, "modifyAllRecords"))
    for grant in node.findall(f"{_NS}fieldPermissions"):
        readable, editable = _flag(grant, "readable"), _flag(grant, "editable")
        # A field permission that edits reads too (Object Reference, FieldPermissions: PermissionsEdit
        # requires PermissionsRead).
        ps.fields[_text(grant, "field").lower()] = (readable or editable, editable)
    return ps
