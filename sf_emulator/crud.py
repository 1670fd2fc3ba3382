"""Create, update, delete and upsert one record, with Salesforce's validation and error codes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import apex_triggers, content
from .clock import format_datetime
from .errors import SalesforceError, not_found
from .ids import looks_like_id, to_18
from .schema import ObjectDef

if TYPE_CHECKING:
    from .org import Org

_NAME_FROM_PARTS = {"Contact", "Lead", "User"}


def object_def(org: Org, sobject: str) -> ObjectDef:
    obj = org.schema.get(sobject)
    if obj is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def create_record(org: Org, sobject: str, values: dict, user_id: str) -> str:
    obj = object_def(org, sobject)
    if obj.name in ("ContentDocument", "Organization"):
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.name}")
    values = clean_values(org, obj, values, creating=True)
    if obj.name == "ContentVersion":
        return content.create_version(org, values, user_id)
    if obj.name == "ContentDocumentLink":
        content.check_new_link(org, values)
        apex_triggers.before_link_insert(org, values, user_id)
    return insert(org, obj, values, user_id)


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


def update_record(org: Org, record_id: str, values: dict, user_id: str, sobject: str | None = None) -> None:
    record = live_record(org, record_id, sobject)
    obj = object_def(org, record["attributes"]["type"])
    if obj.name == "Organization":
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be updated: Organization")
    values = clean_values(org, obj, values, creating=False)
    changed = {**record, **_merge_custom(record, values)}
    now = format_datetime(org.now())
    changed["SystemModstamp"] = now
    if "lastmodifieddate" in obj.fields:
        changed.update(LastModifiedDate=now, LastModifiedById=user_id)
    apex_triggers.before_update(org, obj, record, changed, user_id)
    _derive(org, obj, changed)
    org.store.put(obj.name, changed)
    org.record_effect("update", obj.name, record["Id"])


def delete_record(org: Org, record_id: str, user_id: str) -> None:
    record = live_record(org, record_id)
    sobject = record["attributes"]["type"]
    if sobject in ("ContentVersion", "Organization", "User"):  # not deletable through the API
        raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {sobject}")
    if sobject == "ContentDocumentLink":
        content.check_link_delete(org, record)
    mark_deleted(org, record)
    if sobject == "ContentDocument":
        content.delete_document_parts(org, record["Id"])
    else:
        content.delete_links_to(org, record["Id"])


def mark_deleted(org: Org, record: dict) -> None:
    org.store.put(record["attributes"]["type"],
                  {**record, "IsDeleted": True, "SystemModstamp": format_datetime(org.now())})
    org.record_effect("delete", record["attributes"]["type"], record["Id"])


def upsert_record(org: Org, sobject: str, field: str, value: object, values: dict, user_id: str
                  ) -> tuple[str, bool]:
    """Update the one record whose external id matches, or create it; returns (id, created)."""
    obj = object_def(org, sobject)
    fdef = obj.field(field)
    if fdef is None or not (fdef.name.lower().endswith("__c") or fdef.name == "Id"):
        raise SalesforceError(400, "INVALID_FIELD", f"Field {field} is not an External Id field on {obj.name}")
    if fdef.name == "Id":
        if value in (None, ""):
            return create_record(org, sobject, values, user_id), True
        update_record(org, value, values, user_id, sobject)
        return to_18(value), False
    matches = [r for r in org.store.of_type(obj.name)
               if not r["IsDeleted"] and value is not None and field_value(r, fdef.name) == value]
    if len(matches) > 1:
        raise SalesforceError(300, "DUPLICATE_EXTERNAL_ID",
                              f"The external ID '{value}' matches more than one {obj.name} record.")
    body = {k: v for k, v in values.items() if k.lower() != fdef.name.lower()}
    if matches:
        update_record(org, matches[0]["Id"], body, user_id)
        return matches[0]["Id"], False
    return create_record(org, sobject, {**body, fdef.name: value}, user_id), True


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


def field_value(record: dict, name: str) -> object:
    if name in record:
        return record[name]
    lowered = name.lower()
    return next((v for k, v in record.items() if k.lower() == lowered), None)


def clean_values(org: Org, obj: ObjectDef, values: dict, *, creating: bool) -> dict:
    """Canonical field names, access checks, reference checks; raises Salesforce's errors."""
    clean, locked = {}, []
    for name, value in values.items():
        if name == "attributes":
            continue
        fdef = obj.field(name)
        if fdef is None:
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
        if not (fdef.createable if creating else fdef.updateable):
            locked.append(fdef.name)
            continue
        clean[fdef.name] = _checked_reference(org, fdef.name, value) if fdef.type == "reference" else value
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


def _checked_reference(org: Org, field: str, value: object) -> object:
    if value in (None, ""):
        return None
    if not looks_like_id(value):
        raise SalesforceError(400, "MALFORMED_ID", f"{field}: id value of incorrect type: {value}", [field])
    target = org.store.get(to_18(value))
    if target is None or target["IsDeleted"]:
        raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field])
    return target["Id"]


def _merge_custom(record: dict, values: dict) -> dict:
    """Custom field names keep the spelling they were first stored with."""
    existing = {k.lower(): k for k in record}
    return {existing.get(k.lower(), k): v for k, v in values.items()}


def _derive(org: Org, obj: ObjectDef, record: dict) -> None:
    if obj.name in _NAME_FROM_PARTS:
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    elif obj.name == "Case":
        record["CaseNumber"] = record["CaseNumber"] or f"{org.next_number('case'):08d}"
        closed = record.get("Status") == "Closed"
        if closed and not record["IsClosed"]:
            record["ClosedDate"] = record["SystemModstamp"]
        record["IsClosed"] = closed
    elif obj.custom and not record.get("Name"):
        record["Name"] = record["Id"]
