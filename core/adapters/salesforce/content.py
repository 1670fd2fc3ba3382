"""Files in Salesforce: ContentVersion rows after a watermark, and the records they are linked to."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from simple_salesforce.exceptions import SalesforceError

from core.adapters.salesforce.gateway import SalesforceGateway, chunks, soql_datetime, soql_ids
from core.domain.records import CUSTOMER_FIELDS, is_customer_record

log = logging.getLogger(__name__)

VERSION_FIELDS = ("Id", "ContentDocumentId", "Title", "PathOnClient", "FileExtension", "FileType",
                  "ContentSize", "Checksum", "CreatedDate", "CreatedById", "SystemModstamp",
                  "VersionNumber", "FirstPublishLocationId")
LINK_FIELDS = ("Id", "ContentDocumentId", "LinkedEntityId", "LinkedEntity.Type", "LinkedEntity.Name",
               "ShareType", "Visibility")


def versions_since(gw: SalesforceGateway, since: datetime | None, overlap: timedelta) -> Iterator[dict[str, Any]]:
    """Latest versions modified at or after `since - overlap`, oldest first, all pages.

    SystemModstamp has one-second precision and rows can commit out of order within it, so each
    poll re-reads an overlap window; the caller skips versions it already holds."""
    where = "IsLatest = true"
    if since is not None:
        where += f" AND SystemModstamp >= {soql_datetime(since - overlap)}"
    yield from gw.query(f"SELECT {', '.join(VERSION_FIELDS)} FROM ContentVersion WHERE {where} "
                        f"ORDER BY SystemModstamp ASC, Id ASC")


def links_of(gw: SalesforceGateway, document_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every ContentDocumentLink of these documents, grouped by document, 200 documents a query."""
    grouped: dict[str, list[dict[str, Any]]] = {d: [] for d in document_ids}
    for batch in chunks(document_ids):
        for row in gw.query(f"SELECT {', '.join(LINK_FIELDS)} FROM ContentDocumentLink "
                            f"WHERE ContentDocumentId IN {soql_ids(batch)}"):
            grouped.setdefault(row["ContentDocumentId"], []).append(link_record(row))
    _add_customers(gw, [link for links in grouped.values() for link in links])
    return grouped


def _add_customers(gw: SalesforceGateway, links: list[dict[str, Any]]) -> None:
    """Write on each customer-record link the customer behind it (CUSTOMER_FIELDS): one query per
    object type and 200 records, so that incidents count customers, not records."""
    by_type: dict[str, set[str]] = {}
    for link in links:
        if link["entity_type"] in CUSTOMER_FIELDS and is_customer_record(link):
            by_type.setdefault(link["entity_type"], set()).add(link["entity_id"])
    found: dict[str, dict[str, Any]] = {}
    for sobject, ids in sorted(by_type.items()):
        for batch in chunks(sorted(ids)):
            found.update(_customer_fields(gw, sobject, batch))
    for link in links:
        link.update(found.get(link["entity_id"], {}))


def _customer_fields(gw: SalesforceGateway, sobject: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """{record id: {our key: value}}. An org without person accounts (or a field the integration user
    cannot read) refuses the full field list: the lookups alone are asked for, then nothing."""
    wanted = CUSTOMER_FIELDS[sobject]
    for fields in (list(wanted), [f for f in wanted if "." not in f and not f.startswith(("IsPerson", "Person"))]):
        if not fields:
            break
        try:
            rows = gw.query(f"SELECT Id, {', '.join(fields)} FROM {sobject} WHERE Id IN {soql_ids(ids)}")
            return {row["Id"]: {wanted[f]: _field(row, f) for f in fields} for row in rows}
        except SalesforceError as exc:
            log.warning("customer lookups on %s refused with fields %s: %s", sobject, fields, exc)
    return {}


def _field(row: dict[str, Any], path: str) -> Any:
    """A field of a row, following one relationship (Account.Name)."""
    value: Any = row
    for part in path.split("."):
        value = (value or {}).get(part)
    return value


def link_record(row: dict[str, Any]) -> dict[str, Any]:
    entity = row.get("LinkedEntity") or {}
    entity.pop("attributes", None)
    return {"link_id": row["Id"], "entity_id": row["LinkedEntityId"], "entity_type": entity.get("Type"),
            "entity_name": entity.get("Name"), "share_type": row.get("ShareType"),
            "visibility": row.get("Visibility")}
