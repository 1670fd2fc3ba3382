"""What the integration user may do in the org, asked of the org itself, and what an org's refusal means.

- user permissions from UserPermissionAccess (the current user's permissions, API 41.0 and later);
- the fields Response Desk writes, from each object's describe (only fields that field-level security
  shows are described, and `updateable` says whether the user may edit them);
- `explain`: an org's refusal in words that name the missing permission, for the dead letter, the
  ingest state and the installation check.

The names are the ones salesforce/README.md tells an admin to grant."""
from __future__ import annotations

import re
import time
from typing import Any
from weakref import WeakKeyDictionary

from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from core.adapters.salesforce.auth import SalesforceAuthError
from core.adapters.salesforce.gateway import SalesforceGateway
from core.settings import SalesforceFields

INTEGRATION_SET = "Response Desk Integration"
FILE_ACCESS_SET = "Response Desk File Access"
HISTORY_VERSION_FIELD = "RD_Content_Version_Id__c"  # the history row's version, as text
# What only the history row keeps: who uploaded what, where it was linked, who decided and why.
HISTORY_FACTS = {"uploaded_by": "RD_Uploaded_By__c", "file_type": "RD_File_Type__c", "size_bytes": "RD_Size_Bytes__c",
                 "linked_records": "RD_Linked_Records__c", "decided_by": "RD_Decided_By__c",
                 "reason_code": "RD_Reason_Code__c", "unscannable_reason": "RD_Unscannable_Reason__c"}
CASE_EXTERNAL_ID = "RD_Item_Id__c"
CASE_FIELDS = (CASE_EXTERNAL_ID, "Subject", "Status", "Origin", "Priority", "Description")
# User permission, its name in Setup, and what Response Desk cannot do without it.
FILE_PERMISSIONS = (
    ("QueryAllFiles", "Query All Files", "a query lists only files the integration user owns or that are shared "
     "with it directly, so files uploaded on customer records are never ingested"),
    ("ViewAllData", "View All Data", "Query All Files works only with it"),
    ("ModifyAllData", "Modify All Data", "verdicts cannot be written on, and links cannot be cut from or restored "
     "to, files other users own"),
    ("DistributeFromPersWksp", "Create Public Links", "a release cannot make again the public links a quarantine "
     "revoked"),
)
PROBE_EVERY_S = 3600.0  # permissions change rarely; the probe costs four API requests
_probed: WeakKeyDictionary[SalesforceGateway, tuple[float, list[str]]] = WeakKeyDictionary()


def written_fields(fields: SalesforceFields) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Every field Response Desk writes, by object, and whether it creates records of that object
    (create and edit) or only edits them."""
    verdict = (fields.status, fields.risk, fields.score, fields.verified_at, fields.sha256, fields.detector_versions,
               fields.provenance_source)
    return {"ContentVersion": (verdict, False),
            fields.history_object: ((fields.history_external_id, HISTORY_VERSION_FIELD, *verdict,
                                     *HISTORY_FACTS.values()), True),
            "Case": (CASE_FIELDS, True)}


def user_permissions(gw: SalesforceGateway) -> dict[str, bool]:
    names = [name for name, _, _ in FILE_PERMISSIONS]
    rows = list(gw.query(f"SELECT {', '.join('Permissions' + n for n in names)} FROM UserPermissionAccess"))
    return {name: bool(rows and rows[0].get(f"Permissions{name}")) for name in names}


def missing_permissions(gw: SalesforceGateway) -> list[str]:
    granted = user_permissions(gw)
    return [f"the integration user lacks {label}: {why} (assign the permission set {FILE_ACCESS_SET})"
            for name, label, why in FILE_PERMISSIONS if not granted[name]]


def field_problems(gw: SalesforceGateway, fields: SalesforceFields) -> list[str]:
    problems = []
    for sobject, (names, creates) in written_fields(fields).items():
        try:
            described = {f["name"].lower(): f for f in gw.describe(sobject)["fields"]}
        except SalesforceResourceNotFound:
            problems.append(f"{sobject} is not deployed, or the integration user may not read it (object "
                            f"permission Read in {INTEGRATION_SET})")
            continue
        for name in names:
            found = described.get(name.lower())
            if found is None:
                problems.append(f"{sobject}.{name} is not deployed, misspelt in [salesforce.fields], or hidden from "
                                f"the integration user by field-level security (Read and Edit in {INTEGRATION_SET})")
            elif not found["updateable"] or (creates and not found["createable"]):
                problems.append(f"{sobject}.{name} is read-only for the integration user (field-level security: "
                                f"Edit in {INTEGRATION_SET})")
    return problems


def problems(gw: SalesforceGateway, fields: SalesforceFields) -> list[str]:
    """Everything the integration user lacks to do Response Desk's work; empty when nothing."""
    return missing_permissions(gw) + field_problems(gw, fields)


def known_problems(gw: SalesforceGateway, fields: SalesforceFields, *, now=time.monotonic) -> list[str]:
    """`problems`, asked of the org at most once an hour per connection; while the org cannot answer,
    the last answer stands."""
    asked = _probed.get(gw)
    if asked is None or now() - asked[0] >= PROBE_EVERY_S:
        try:
            asked = _probed[gw] = (now(), problems(gw, fields))
        except Exception:
            if asked is None:
                raise
    return asked[1]


# -- what a refusal means ------------------------------------------------------------------------------
_NO_COLUMN = re.compile(r"No such column '([^']+)' on (?:sobject of type |entity ')([A-Za-z0-9_]+)")
_HINTS = {
    "INVALID_FIELD_FOR_INSERT_UPDATE": f"the integration user may read but not edit the field (field-level security: "
                                       f"Edit in {INTEGRATION_SET})",
    "INSUFFICIENT_ACCESS_OR_READONLY": "the integration user may not change this record or file: files and records "
                                       f"other users own need Modify All Data ({FILE_ACCESS_SET})",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "the integration user may not see the record this refers to "
                                                     f"(View All Data, {FILE_ACCESS_SET})",
    "STRING_TOO_LONG": "the org's field is shorter than the one in salesforce/: deploy salesforce/ again",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "the org's picklist lacks this value: deploy salesforce/ again, or add "
                                               "the value in Setup",
    "INVALID_TYPE": f"the object is not deployed or the integration user may not read it ({INTEGRATION_SET})",
}
_NOT_APPROVED = ("the connected app must say Admin approved users are pre-authorized, with the integration user's "
                 f"profile or the {INTEGRATION_SET} permission set assigned to it (salesforce/README.md)")


def explain(code: str, message: str) -> str:
    """An org's refusal, `code: message`, followed by what the integration user is missing."""
    hint = _HINTS.get(code)
    column = _NO_COLUMN.search(message or "")
    if code == "INVALID_FIELD" and column:
        hint = (f"{column.group(2)}.{column.group(1)} is not deployed, misspelt in [salesforce.fields], or hidden from "
                f"the integration user by field-level security (Read and Edit in {INTEGRATION_SET})")
    return f"{code}: {message}" + (f" ({hint})" if hint else "")


def explain_error(error: BaseException) -> str:
    """A failed call in words: the org's errors with their meaning, or the exception itself."""
    if isinstance(error, SalesforceAuthError):
        return f"{error}" + (f" ({_NOT_APPROVED})" if "approved this consumer" in str(error) else "")
    if isinstance(error, SalesforceError) and isinstance(error.content, list):
        refusals = [explain(e.get("errorCode", ""), e.get("message", "")) for e in error.content if isinstance(e, dict)]
        if refusals:
            return f"HTTP {error.status}: " + "; ".join(refusals)
    return f"{type(error).__name__}: {error}"


def explain_result(result: dict[str, Any]) -> str:
    """A per-record failure of an sObject Collections call, explained."""
    return "; ".join(explain(e.get("statusCode", ""), e.get("message", "")) for e in result.get("errors") or [])
