"""Files in Salesforce: ContentVersion rows after a watermark, and the records they are linked to."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from core.adapters.salesforce.gateway import SalesforceGateway, chunks, soql_datetime, soql_ids

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
    return grouped


def link_record(row: dict[str, Any]) -> dict[str, Any]:
    entity = row.get("LinkedEntity") or {}
    entity.pop("attributes", None)
    return {"link_id": row["Id"], "entity_id": row["LinkedEntityId"], "entity_type": entity.get("Type"),
            "entity_name": entity.get("Name"), "share_type": row.get("ShareType"),
            "visibility": row.get("Visibility")}
