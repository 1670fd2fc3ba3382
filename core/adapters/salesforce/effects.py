"""Effects on the org, batched: write verification fields and history, cut and restore a file's
links, open and close review Cases, send email through emailSimple.

Each function is safe to repeat: upserts by external id, deletes that tolerate the already
deleted, link re-creation that skips links already present."""
from __future__ import annotations

from typing import Any

from core.adapters.salesforce import content
from core.adapters.salesforce.access import HISTORY_FACTS, HISTORY_VERSION_FIELD, explain_result
from core.adapters.salesforce.gateway import SalesforceGateway, chunks, soql_ids
from core.settings import SalesforceFields

ALREADY_GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}
ALREADY_THERE = {"DUPLICATE_VALUE"}
PRIVATE, SHARED = "P", "N"  # ContentVersion.SharingPrivacy: private on records / normal


def _codes(result: dict[str, Any]) -> set[str]:
    return {e.get("statusCode", "") for e in result.get("errors") or []}


def _failures(results: list[dict[str, Any]], keys: list[str], tolerated: set[str] = frozenset()) -> dict[str, str]:
    failed = {}
    for key, result in zip(keys, results):
        if not result.get("success") and not (_codes(result) & tolerated):
            failed[key] = explain_result(result)
    return failed


def write_verification(gw: SalesforceGateway, fields: SalesforceFields,
                       writes: list[dict[str, Any]]) -> dict[str, str]:
    """Status fields on each ContentVersion and a history row each (upsert by external id).
    `writes`: {version_id, status, risk, score, verified_at, sha256, detectors, source, history_id}.
    Returns {version_id: error} for records the org refused."""
    updates, history = [], []
    for w in writes:
        values = {fields.status: w["status"], fields.risk: w["risk"], fields.score: w["score"],
                  fields.verified_at: w["verified_at"], fields.sha256: w["sha256"],
                  fields.detector_versions: w["detectors"], fields.provenance_source: w["source"]}
        updates.append({"attributes": {"type": "ContentVersion"}, "Id": w["version_id"], **values})
        history.append({fields.history_external_id: w["history_id"], HISTORY_VERSION_FIELD: w["version_id"],
                        **{HISTORY_FACTS[k]: v for k, v in (w.get("facts") or {}).items() if v is not None},
                        **values})
    failed = _failures(gw.collection("PATCH", updates), [w["version_id"] for w in writes])
    for batch in chunks(list(zip(writes, history))):
        results = gw.upsert_collection(fields.history_object, fields.history_external_id, [h for _, h in batch])
        failed.update(_failures(results, [w["version_id"] for w, _ in batch]))
    return failed


def current_links(gw: SalesforceGateway, document_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    return content.links_of(gw, document_ids)


def cut_links(gw: SalesforceGateway, links: list[dict[str, Any]]) -> dict[str, str]:
    """Delete links to customer records. Returns {link_id: reason} for links the org kept
    (the owner's link, for one): reported, not fatal."""
    ids = [link["link_id"] for link in links]
    return _failures(gw.delete_collection(ids), ids, ALREADY_GONE) if ids else {}


def set_sharing(gw: SalesforceGateway, fields: SalesforceFields, changes: list[dict[str, Any]]) -> dict[str, str]:
    """`changes`: {version_id, privacy, status}: restrict or restore sharing and set the status."""
    records = [{"attributes": {"type": "ContentVersion"}, "Id": c["version_id"], "SharingPrivacy": c["privacy"],
                fields.status: c["status"]} for c in changes]
    return _failures(gw.collection("PATCH", records), [c["version_id"] for c in changes]) if records else {}


def restore_links(gw: SalesforceGateway, document_id: str, removed: list[dict[str, Any]]) -> dict[str, str]:
    """Re-create exactly the removed links that are not there now."""
    present = {link["entity_id"] for link in content.links_of(gw, [document_id])[document_id]}
    missing = [link for link in removed if link["entity_id"] not in present]
    records = [{"attributes": {"type": "ContentDocumentLink"}, "ContentDocumentId": document_id,
                "LinkedEntityId": link["entity_id"], "ShareType": link["share_type"],
                "Visibility": link["visibility"]} for link in missing]
    if not records:
        return {}
    return _failures(gw.collection("POST", records), [link["entity_id"] for link in missing], ALREADY_THERE)


# What a public link is made of, to revoke it on quarantine and make it again on release (Object
# Reference, ContentDistribution). The URL itself cannot be kept: a new link gets a new URL.
PUBLIC_LINK_FIELDS = ("Id", "Name", "ContentDocumentId", "ContentVersionId", "DistributionPublicUrl",
                      "PreferencesAllowViewInBrowser", "PreferencesAllowOriginalDownload", "PreferencesAllowPDFDownload",
                      "PreferencesLinkLatestVersion", "PreferencesPasswordRequired", "PreferencesExpires", "ExpiryDate")
_REMADE = PUBLIC_LINK_FIELDS[1:2] + PUBLIC_LINK_FIELDS[3:4] + PUBLIC_LINK_FIELDS[5:]


def public_links(gw: SalesforceGateway, document_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every public link (ContentDistribution) of these files, by file. A query must name the files:
    one that names none lists only the integration user's own links."""
    found: dict[str, list[dict[str, Any]]] = {d: [] for d in document_ids}
    for batch in chunks(document_ids):
        for row in gw.query(f"SELECT {', '.join(PUBLIC_LINK_FIELDS)} FROM ContentDistribution "
                            f"WHERE ContentDocumentId IN {soql_ids(batch)}"):
            found.setdefault(row["ContentDocumentId"], []).append(row)
    return found


def revoke_public_links(gw: SalesforceGateway, links: list[dict[str, Any]]) -> dict[str, str]:
    """Delete public links: whoever holds one could read the file whatever the org's sharing says."""
    ids = [link["Id"] for link in links]
    return _failures(gw.delete_collection(ids), ids, ALREADY_GONE) if ids else {}


def remake_public_links(gw: SalesforceGateway, links: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Make again the public links a quarantine revoked, with their settings. (new URLs, problems)."""
    if not links:
        return [], []
    records = [{"attributes": {"type": "ContentDistribution"}, **{k: link[k] for k in _REMADE if link.get(k) is not None}}
               for link in links]
    results = gw.collection("POST", records)
    failed = _failures(results, [link["Id"] for link in links])
    made = [r["id"] for r in results if r.get("success")]
    urls = [row["DistributionPublicUrl"] for row in gw.query(
        f"SELECT DistributionPublicUrl FROM ContentDistribution WHERE Id IN {soql_ids(made)}")] if made else []
    return urls, [f"public link {old} not made again: {why}" for old, why in failed.items()]


def links_match(removed: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[str]:
    """Differences between the links a quarantine removed and the links present after release."""
    current = {link["entity_id"]: link for link in now}
    problems = []
    for link in removed:
        found = current.get(link["entity_id"])
        if found is None:
            problems.append(f"link to {link['entity_id']} is missing")
        elif (found["share_type"], found["visibility"]) != (link["share_type"], link["visibility"]):
            problems.append(f"link to {link['entity_id']} is {found['share_type']}/{found['visibility']}, "
                            f"was {link['share_type']}/{link['visibility']}")
    return problems


def upsert_cases(gw: SalesforceGateway, cases: list[dict[str, Any]], external_id_field: str) -> dict[str, str]:
    """Open (or update) review Cases keyed by the item's external id, so a retry opens no second Case."""
    ids = [c[external_id_field] for c in cases]
    return _failures(gw.upsert_collection("Case", external_id_field, cases), ids) if cases else {}


def send_email(gw: SalesforceGateway, addresses: list[str], subject: str, body: str) -> None:
    result = gw.email_simple(addresses, subject, body)
    if not result.get("isSuccess"):
        raise RuntimeError(f"emailSimple refused: {result.get('errors')}")

