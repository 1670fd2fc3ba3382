"""Create, update, delete and upsert one record, with Salesforce's validation and error codes.

Every change runs as someone (an Access): the session user of an API call, or the system for the org's
own set-up. The checks come in a real org's order: the request is read first (an unknown or hidden
field, a value of the wrong type: the whole request fails), then each record is checked (locked fields,
values that break the field's definition, object permission and sharing)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import apex_triggers, content, distributions
from .access import Access, insufficient_access, insufficient_cross_reference
from .clock import format_datetime
from .errors import RequestError, SalesforceError, not_found
from .ids import looks_like_id, to_18
from .schema import FieldDef, ObjectDef
from .values import checked

if TYPE_CHECKING:
    from .org import Org

_NAME_FROM_PARTS = {"Contact", "Lead", "User"}
_NOT_INSERTABLE = {"ContentDocument", "Organization", "UserPermissionAccess"}
_NOT_UPDATABLE = {"Organization", "UserPermissionAccess"}
_NOT_DELETABLE = {"ContentVersion", "Organization", "User", "UserPermissionAccess"}  # not through the API
_AUTO_NUMBER = re.compile(r"\{(0+)\}")


def object_def(org: Org, sobject: str, access: Access | None = None) -> ObjectDef:
    """The object; one the caller may not read does not exist for it, as in a real org."""
    obj = org.schema.get(sobject)
    if obj is None or (access is not None and not access.can(obj, "read")):
        raise not_found()
    return obj


def create_record(org: Org, sobject: str, values: dict, access: Access) -> str:
    obj = object_def(org, sobject, access)
    if obj.name in _NOT_INSERTABLE:
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.name}", [])
    values = clean_values(org, obj, values, access, creating=True)
    if not access.can(obj, "create"):
        raise insufficient_access()
    if obj.name == "ContentVersion":
        return content.create_version(org, values, access)
    if obj.name == "ContentDocumentLink":
        content.check_new_link(org, values, access)
        apex_triggers.before_link_insert(org, values, access.user_id)
    if obj.name == "ContentDistribution":
        distributions.check_new(org, values, access)
    _check_unique(org, obj, values, None)
    record_id = insert(org, obj, values, access.user_id)
    access.forget_links()
    return record_id


def insert(org: Org, obj: ObjectDef, values: dict, user_id: str, when: str | None = None) -> str:
    """Store a new record with its system fields; validation has already happened."""
    record_id = org.ids.next_id(obj.key_prefix)
    now = when or format_datetime(org.now())
    record = {"attributes": {"type": obj.name}}
    record.update({f.name: None for f in obj.fields.values()})
    record.update(Id=record_id, IsDeleted=False, SystemModstamp=now)
    if "createddate" in obj.fields:
        record.update(CreatedDate=now, CreatedById=user_id, LastModifiedDate=now, LastModifiedById=user_id)
    if "ownerid" in obj.fields:
        record["OwnerId"] = user_id
    if obj.name == "User":
        record.update(IsActive=True, UserType="Standard")
    record.update(values)
    _derive(org, obj, record)
    org.store.put(obj.name, record)
    org.record_effect("create", obj.name, record_id)
    return record_id


def update_record(org: Org, record_id: str, values: dict, access: Access, sobject: str | None = None) -> None:
    record = live_record(org, record_id, sobject)
    obj = object_def(org, record["attributes"]["type"], access)
    if obj.name in _NOT_UPDATABLE:
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be updated: {obj.name}", [])
    values = clean_values(org, obj, values, access, creating=False)
    if not access.can(obj, "edit") or not access.edits(record):
        raise insufficient_access()
    if obj.name == "ContentDocumentLink":
        content.check_link_update(org, record, values)
    _check_unique(org, obj, values, record["Id"])
    changed = {**record, **values}
    now = format_datetime(org.now())
    changed["SystemModstamp"] = now
    if "lastmodifieddate" in obj.fields:
        changed.update(LastModifiedDate=now, LastModifiedById=access.user_id)
    apex_triggers.before_update(org, obj, record, changed, access.user_id)
    _derive(org, obj, changed)
    org.store.put(obj.name, changed)
    org.record_effect("update", obj.name, record["Id"])


def delete_record(org: Org, record_id: str, access: Access) -> None:
    record = live_record(org, record_id)
    sobject = record["attributes"]["type"]
    if sobject in _NOT_DELETABLE:
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {sobject}", [])
    if sobject == "ContentDocumentLink":
        content.check_link_delete(org, record, access)
    elif sobject == "ContentDistribution":
        distributions.check_delete(org, record, access)
    elif not access.deletes(record):
        raise insufficient_access()
    mark_deleted(org, record)
    access.forget_links()
    if sobject == "ContentDocument":
        content.delete_document_parts(org, record["Id"])
    else:
        content.delete_links_to(org, record["Id"])


def mark_deleted(org: Org, record: dict) -> None:
    org.store.put(record["attributes"]["type"],
                  {**record, "IsDeleted": True, "SystemModstamp": format_datetime(org.now())})
    org.record_effect("delete", record["attributes"]["type"], record["Id"])


def upsert_record(org: Org, sobject: str, field: str, value: object, values: dict, access: Access
                  ) -> tuple[str, bool]:
    """Update the one record whose external id matches, or create it; returns (id, created)."""
    obj = object_def(org, sobject, access)
    fdef = obj.field(field)
    if fdef is None or not access.sees_field(obj, fdef) or not (fdef.external_id or fdef.name == "Id"):
        raise SalesforceError(400, "INVALID_FIELD", f"Field {field} is not an External Id field on {obj.name}")
    if fdef.name == "Id":
        if value in (None, ""):
            return create_record(org, sobject, values, access), True
        update_record(org, value, values, access, sobject)
        return to_18(value), False
    matches = [r for r in org.store.of_type(obj.name)
               if not r["IsDeleted"] and value is not None and _same(fdef, field_value(r, fdef.name), value)]
    if len(matches) > 1:
        raise SalesforceError(300, "DUPLICATE_EXTERNAL_ID",
                              f"The external ID '{value}' matches more than one {obj.name} record.", [])
    body = {k: v for k, v in values.items() if k.lower() != fdef.name.lower()}
    if matches:
        update_record(org, matches[0]["Id"], body, access)
        return matches[0]["Id"], False
    return create_record(org, sobject, {**body, fdef.name: value}, access), True


def live_record(org: Org, record_id: str, sobject: str | None = None) -> dict:
    try:
        record = org.store.get(to_18(record_id))
    except ValueError:
        raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}") from None
    if record is None or (sobject and record["attributes"]["type"].lower() != sobject.lower()):
        raise not_found()
    if record["IsDeleted"]:
        raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return record


def readable_record(org: Org, record_id: str, sobject: str | None, access: Access) -> dict:
    """A record the caller may see; one it may not is not found (REST API Developer Guide, "Status
    Codes and Error Responses": 404, "verify that there are no sharing issues")."""
    record = live_record(org, record_id, sobject)
    if not access.reads(record):
        raise not_found()
    return record


def field_value(record: dict, name: str) -> object:
    if name in record:
        return record[name]
    lowered = name.lower()
    return next((v for k, v in record.items() if k.lower() == lowered), None)


def clean_values(org: Org, obj: ObjectDef, values: dict, access: Access, *, creating: bool) -> dict:
    """Canonical field names and checked values; raises Salesforce's errors.

    A field that does not exist and one that field-level security hides read the same: INVALID_FIELD,
    "No such column". A field the user sees but may not change: INVALID_FIELD_FOR_INSERT_UPDATE (Object
    Reference, FieldPermissions: PermissionsRead, PermissionsEdit,
    https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_fieldpermissions.htm)."""
    clean, locked = {}, []
    for name, value in values.items():
        if name == "attributes":
            continue
        fdef = obj.field(name)
        if fdef is None or not access.sees_field(obj, fdef):
            raise RequestError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
        if not (fdef.createable if creating else fdef.updateable) or not access.edits_field(obj, fdef):
            locked.append(fdef.name)
            continue
        clean[fdef.name] = _checked_reference(org, fdef, value, access) if fdef.type == "reference" \
            else checked(fdef, value)
    if locked:
        verb = "create" if creating else "update"
        raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                              f"Unable to {verb} fields: {', '.join(locked)}. Please check the security settings "
                              "of this field and verify that it is read/write for your profile or permission set.",
                              locked)
    if creating:
        missing = [f.name for f in obj.fields.values() if f.required and clean.get(f.name) in (None, "")]
        if missing:
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]", missing)
    return clean


def _checked_reference(org: Org, fdef: FieldDef, value: object, access: Access) -> object:
    if value in (None, ""):
        return None
    if not looks_like_id(value):
        raise SalesforceError(400, "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", [fdef.name])
    target = org.store.get(to_18(value))
    if fdef.reference_to and target is not None and target["attributes"]["type"] != fdef.reference_to:
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", f"{fdef.label}: id value of incorrect type: {value}",
                              [fdef.name])
    if target is None or target["IsDeleted"]:
        raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [fdef.name])
    if not access.reads(target):
        raise insufficient_cross_reference(fdef.name)
    return target["Id"]


def _check_unique(org: Org, obj: ObjectDef, values: dict, record_id: str | None) -> None:
    """A Unique field refuses a value another record holds (case-insensitively unless Case Sensitive)."""
    for fdef in obj.fields.values():
        value = values.get(fdef.name)
        if not fdef.unique or value is None:
            continue
        other = next((r["Id"] for r in org.store.of_type(obj.name) if not r["IsDeleted"] and r["Id"] != record_id
                      and _same(fdef, r.get(fdef.name), value)), None)
        if other:
            raise SalesforceError(400, "DUPLICATE_VALUE", f"duplicate value found: {fdef.name} duplicates value on "
                                  f"record with id: {other}", [fdef.name])


def _same(fdef: FieldDef, stored: object, value: object) -> bool:
    if isinstance(stored, str) and isinstance(value, str) and not fdef.case_sensitive:
        return stored.lower() == value.lower()
    return stored == value


def _derive(org: Org, obj: ObjectDef, record: dict) -> None:
    if obj.name in _NAME_FROM_PARTS:
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    elif obj.name == "Case":
        record["CaseNumber"] = record["CaseNumber"] or f"{org.next_number('case'):08d}"
        closed = record.get("Status") == "Closed"
        if closed and not record["IsClosed"]:
            record["ClosedDate"] = record["SystemModstamp"]
        record["IsClosed"] = closed
    elif obj.auto_number and not record.get("Name"):
        record["Name"] = _AUTO_NUMBER.sub(lambda m: f"{org.next_number(obj.name):0{len(m.group(1))}d}",
                                          obj.auto_number)
    elif obj.custom and not record.get("Name"):
        record["Name"] = record["Id"]
