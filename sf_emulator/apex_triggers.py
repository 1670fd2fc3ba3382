"""Stand-ins for the shipped Apex triggers, so the emulator behaves as an org where Response Desk's
metadata is deployed:

* ResponseDeskContentVersion: a new version starts Pending with no verdict (Quarantined when its
  document is held); a version on a record of a protected object is private on records until cleared;
  a hold, or that privacy, is lifted only by the holder of Response_Desk_Release, and Verified or
  Released shares the file on records again;
* ResponseDeskQuarantineGuard: a held file is not linked to a customer record without that permission;
  linking a file that is not cleared to a protected record makes it private;
* ResponseDeskKycCheckApproval (salesforce/kyc-check): a protected record is not approved while one of
  its files is not cleared.

Statuses, SharingPrivacy values and the permission's name are ResponseDeskPolicy.cls's constants as the
Apex grammar reads them (apex_policy.json beside this file, written by `make apex-policy`; a test fails
when it differs from the Apex); protected objects are the shipped RD_Protected_Object__mdt records. The
triggers run once their fields are deployed, as in an org. A refusal is what a trigger's addError
returns through the API: FIELD_CUSTOM_VALIDATION_EXCEPTION."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from defusedxml import ElementTree

from .clock import format_datetime
from .errors import SalesforceError

if TYPE_CHECKING:
    from .org import Org
    from .schema import ObjectDef

CUSTOM_METADATA = (Path(__file__).resolve().parent.parent / "salesforce" / "force-app" / "main" / "default"
                   / "customMetadata")
_POLICY = json.loads(Path(__file__).with_name("apex_policy.json").read_text(encoding="utf-8"))
PENDING, QUARANTINED = _POLICY["PENDING"], _POLICY["QUARANTINED"]
HELD, CLEARED = frozenset(_POLICY["HELD"]), frozenset(_POLICY["CLEARED"])
PRIVATE, SHARED = _POLICY["PRIVATE_ON_RECORDS"], _POLICY["SHARED_ON_RECORDS"]
RELEASE_PERMISSION = _POLICY["RELEASE_PERMISSION"]
STATUS, MARKER = "RD_Verification_Status__c", "RD_Private_Until_Cleared__c"
VERDICT_FIELDS = ("RD_Risk__c", "RD_Score__c", "RD_Verified_At__c", "RD_SHA256__c", "RD_Detector_Versions__c",
                  "RD_Provenance_Source__c")
# ResponseDeskPolicy.isCustomerRecord: every link target but users (005), public groups (00G) and libraries (058).
_NOT_CUSTOMER_PREFIXES = ("005", "00G", "058")
REFUSE_PRIVACY = ("Response Desk keeps this file private on records until it has checked it. "
                  "Only Response Desk clears it, by writing Verified or Released.")
_METADATA_NS = "{http://soap.sforce.com/2006/04/metadata}"


@dataclass(frozen=True)
class ProtectedObject:
    """One RD_Protected_Object__mdt record."""

    object_name: str
    private_until_cleared: bool
    approval_field: str | None
    approved_value: str | None

    def approves(self, record: dict) -> bool:
        value = next((v for k, v in record.items() if k.lower() == (self.approval_field or "").lower()), None)
        return bool(self.approval_field) and self.approved_value is not None and value == self.approved_value


@functools.lru_cache(maxsize=4)
def protected_objects(folder: Path = CUSTOM_METADATA) -> dict[str, ProtectedObject]:
    """The shipped protected objects by lower-case API name."""
    found = {}
    for path in sorted(folder.glob("RD_Protected_Object.*.md-meta.xml")):
        values = {v.findtext(f"{_METADATA_NS}field"): v.findtext(f"{_METADATA_NS}value")
                  for v in ElementTree.parse(path).getroot().iter(f"{_METADATA_NS}values")}
        protection = ProtectedObject(values["Object_API_Name__c"], values.get("Private_Until_Cleared__c") == "true",
                                     values.get("Approval_Field__c"), values.get("Approved_Value__c"))
        found[protection.object_name.lower()] = protection
    return found


def trigger_error(message: str, fields: list[str] | None = None) -> SalesforceError:
    return SalesforceError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", message, fields or [])


def may_release(org: Org, user_id: str) -> bool:
    """ResponseDeskPolicy.canRelease(): the custom permission Response_Desk_Release, which the shipped
    permission set Response_Desk_Integration gives the integration user."""
    return user_id == org.integration_user_id


# -- ContentVersion ----------------------------------------------------------------------------------
def before_version_insert(org: Org, values: dict) -> dict:
    """ResponseDeskContentVersionHandler.beforeInsert for one new version; returns its values."""
    if not _deployed(org):
        return values
    document_id = values.get("ContentDocumentId")
    latest = _latest(org, document_id) if document_id else None
    held = latest is not None and latest.get(STATUS) in HELD
    values = {**values, STATUS: QUARANTINED if held else PENDING, MARKER: False, **dict.fromkeys(VERDICT_FIELDS)}
    if _keeps_private(org, values.get("FirstPublishLocationId")) or (
            document_id and any(_keeps_private(org, link["LinkedEntityId"]) for link in _links(org, document_id))):
        values.update({"SharingPrivacy": PRIVATE, MARKER: True})
    return values


def before_update(org: Org, obj: ObjectDef, before: dict, after: dict, user_id: str) -> None:
    """The before-update triggers: may change `after`, or raise the refusal."""
    if not _deployed(org):
        return
    if obj.name == "ContentVersion":
        _version_update(org, before, after, user_id)
        return
    protection = protected_objects().get(obj.name.lower())
    if protection and protection.approves(after) and not protection.approves(before):
        files = _files_not_cleared(org, after["Id"])
        if files:
            raise trigger_error(f"Response Desk has not cleared every file of this record: {', '.join(files)}. "
                                "It can be approved once each file is Verified or Released.")


def _version_update(org: Org, before: dict, after: dict, user_id: str) -> None:
    was, now = before.get(STATUS), after.get(STATUS)
    if was in HELD and now not in HELD and not may_release(org, user_id):
        raise trigger_error(f"Response Desk holds this file ({was}). Only Response Desk releases it, after a "
                            "recorded review decision.", [STATUS])
    if not before.get(MARKER):
        return
    if now in CLEARED:
        if not may_release(org, user_id):
            raise trigger_error(REFUSE_PRIVACY, [STATUS])
        after.update({"SharingPrivacy": SHARED, MARKER: False})
    elif after.get("SharingPrivacy") != PRIVATE or not after.get(MARKER):
        raise trigger_error(REFUSE_PRIVACY, ["SharingPrivacy"])


# -- ContentDocumentLink -----------------------------------------------------------------------------
def before_link_insert(org: Org, values: dict, user_id: str) -> None:
    """ResponseDeskQuarantineGuardHandler: refuse a held file's link to a customer record, and keep a
    file that is not cleared private once it is linked to a protected record (the Apex does this after
    insert and refuses the link when it cannot; here it always can)."""
    if not _deployed(org):
        return
    latest = _latest(org, values["ContentDocumentId"])
    status = latest.get(STATUS) if latest else None
    entity_id = values["LinkedEntityId"]
    if status in HELD and entity_id[:3] not in _NOT_CUSTOMER_PREFIXES and not may_release(org, user_id):
        raise trigger_error(f"Response Desk holds this file ({status}): it cannot be attached to records until "
                            "it is released. Open its review in Response Desk.")
    if (latest is not None and _keeps_private(org, entity_id) and status not in CLEARED and status not in HELD
            and latest.get("SharingPrivacy") != PRIVATE):
        now = format_datetime(org.now())
        org.store.put("ContentVersion", {**latest, "SharingPrivacy": PRIVATE, MARKER: True, "SystemModstamp": now,
                                         "LastModifiedDate": now})
        org.record_effect("update", "ContentVersion", latest["Id"])


# -- helpers -----------------------------------------------------------------------------------------
def _deployed(org: Org) -> bool:
    """The triggers come with their fields: an org without the status field has no Response Desk Apex."""
    version = org.schema.get("ContentVersion")
    return version is not None and version.field(STATUS) is not None and version.field(MARKER) is not None


def _keeps_private(org: Org, record_id: str | None) -> bool:
    obj = org.schema.by_prefix(record_id) if record_id else None
    protection = protected_objects().get(obj.name.lower()) if obj else None
    return bool(protection and protection.private_until_cleared)


def _latest(org: Org, document_id: str) -> dict | None:
    return next((v for v in org.store.of_type("ContentVersion")
                 if v["ContentDocumentId"] == document_id and v["IsLatest"] and not v["IsDeleted"]), None)


def _links(org: Org, document_id: str) -> list[dict]:
    return [link for link in org.store.of_type("ContentDocumentLink")
            if link["ContentDocumentId"] == document_id and not link["IsDeleted"]]


def _files_not_cleared(org: Org, record_id: str) -> list[str]:
    """ResponseDeskApprovalGuard: "title (status)" of each file linked to the record now or first
    uploaded onto it whose latest version is not cleared."""
    documents = {link["ContentDocumentId"] for link in org.store.of_type("ContentDocumentLink")
                 if link["LinkedEntityId"] == record_id and not link["IsDeleted"]}
    documents |= {v["ContentDocumentId"] for v in org.store.of_type("ContentVersion")
                  if v.get("FirstPublishLocationId") == record_id and not v["IsDeleted"]}
    files = []
    for document_id in documents:
        latest = _latest(org, document_id)
        if latest is not None and latest.get(STATUS) not in CLEARED:
            files.append(f"{latest['Title']} ({latest.get(STATUS) or 'not checked'})")
    return sorted(files)
