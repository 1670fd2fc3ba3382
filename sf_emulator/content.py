"""Salesforce Files: ContentVersion -> ContentDocument -> ContentDocumentLink, and their rules."""
from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
from typing import TYPE_CHECKING

from . import apex_triggers
from .clock import format_datetime
from .errors import SalesforceError

if TYPE_CHECKING:
    from .org import Org

FILE_TYPES = {
    "jpg": "JPG", "jpeg": "JPG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF",
    "pdf": "PDF", "txt": "TEXT", "csv": "CSV", "doc": "WORD", "docx": "WORD_X", "xls": "EXCEL",
    "xlsx": "EXCEL_X", "mp4": "MP4", "mov": "MOV", "mp3": "MP3", "wav": "WAV", "zip": "ZIP",
    "webp": "WEBP", "heic": "HEIC",
}
SHARE_TYPES = {"V", "C", "I"}
VISIBILITIES = {"AllUsers", "InternalUsers", "SharedUsers"}


def create_version(org: Org, values: dict, user_id: str, when: str | None = None) -> str:
    """A new file (document, owner link, first-publish link) or a new version of an existing one."""
    from .crud import insert  # crud imports this module

    data = _decode(values.pop("VersionData"))
    path = values["PathOnClient"]
    stem, ext = posixpath.splitext(posixpath.basename(path.replace("\\", "/")))
    ext = ext[1:].lower()
    owner = values.get("OwnerId") or user_id
    document_id = values.get("ContentDocumentId")
    previous = _latest_version(org, document_id) if document_id else None
    fields = {
        "Title": values.get("Title") or stem, "FileExtension": ext or None,
        "FileType": FILE_TYPES.get(ext, "UNKNOWN"), "ContentSize": len(data),
        # Salesforce's Checksum field is an MD5 of the content: an identifier, not a security control.
        "Checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "IsLatest": True, "IsMajorVersion": True,
        "VersionNumber": str(int(previous["VersionNumber"]) + 1) if previous else "1",
        "ContentLocation": values.get("ContentLocation") or "S", "Origin": values.get("Origin") or "C",
        "SharingOption": "A", "SharingPrivacy": "N", "OwnerId": owner,
        "PublishStatus": "P" if values.get("FirstPublishLocationId") else "R",
    }
    now = when or format_datetime(org.now())
    values = apex_triggers.before_version_insert(org, {**values, **fields, "ContentModifiedDate": now})
    version_id = insert(org, org.schema.get("ContentVersion"), values, user_id, when=now)
    org.store.put_blob(version_id, data)
    if previous:
        org.store.put("ContentVersion", {**previous, "IsLatest": False, "SystemModstamp": now})
    document_id = document_id or _new_document(org, version_id, owner, values.get("FirstPublishLocationId"),
                                               user_id, now)
    version = {**org.store.get(version_id), "ContentDocumentId": document_id}
    org.store.put("ContentVersion", version)
    org.events.file_uploaded(version, user_id)  # the shipped trigger's publish, when deployed
    doc = org.store.get(document_id)
    org.store.put("ContentDocument", {
        **doc, "Title": fields["Title"], "FileType": fields["FileType"], "FileExtension": fields["FileExtension"],
        "ContentSize": fields["ContentSize"], "LatestPublishedVersionId": version_id,
        "ContentModifiedDate": now, "SystemModstamp": now, "LastModifiedDate": now})
    return version_id


def _new_document(org: Org, version_id: str, owner: str, publish_on: str | None, user_id: str, now: str) -> str:
    from .crud import insert

    schema = org.schema
    document_id = insert(org, schema.get("ContentDocument"), {
        "OwnerId": owner, "PublishStatus": "P" if publish_on else "R", "SharingOption": "A",
        "SharingPrivacy": "N", "IsArchived": False}, user_id, when=now)
    link = schema.get("ContentDocumentLink")
    insert(org, link, {"ContentDocumentId": document_id, "LinkedEntityId": owner, "ShareType": "I",
                       "Visibility": "AllUsers"}, user_id, when=now)
    if publish_on and publish_on != owner:
        insert(org, link, {"ContentDocumentId": document_id, "LinkedEntityId": publish_on, "ShareType": "V",
                           "Visibility": "AllUsers"}, user_id, when=now)
    return document_id


def check_new_link(org: Org, values: dict) -> None:
    document_id, entity_id = values["ContentDocumentId"], values["LinkedEntityId"]
    if not document_id.startswith("069"):
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION",
                              "Content Document ID: id value of incorrect type: " + document_id,
                              ["ContentDocumentId"])
    values.setdefault("ShareType", "V")
    values.setdefault("Visibility", "AllUsers")
    _check_picklist(values, "ShareType", "Share Type", SHARE_TYPES)
    _check_picklist(values, "Visibility", "Visibility", VISIBILITIES)
    if any(link["LinkedEntityId"] == entity_id for link in links_of(org, document_id)):
        raise SalesforceError(400, "DUPLICATE_VALUE", f"Document with ID: {document_id} is already linked "
                              f"with the entity with ID: {entity_id}", ["LinkedEntityId"])


def check_link_delete(org: Org, link: dict) -> None:
    """The owner's link ('I', to the document owner) cannot be deleted, as in a real org."""
    doc = org.store.get(link["ContentDocumentId"])
    if doc and link["LinkedEntityId"] == doc["OwnerId"]:
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", "field integrity exception: []")


def delete_document_parts(org: Org, document_id: str) -> None:
    from .crud import mark_deleted

    for sobject in ("ContentVersion", "ContentDocumentLink"):
        for record in org.store.of_type(sobject):
            if record["ContentDocumentId"] == document_id and not record["IsDeleted"]:
                mark_deleted(org, record)


def delete_links_to(org: Org, entity_id: str) -> None:
    from .crud import mark_deleted

    for link in org.store.of_type("ContentDocumentLink"):
        if link["LinkedEntityId"] == entity_id and not link["IsDeleted"]:
            mark_deleted(org, link)


def links_of(org: Org, document_id: str) -> list[dict]:
    return [link for link in org.store.of_type("ContentDocumentLink")
            if link["ContentDocumentId"] == document_id and not link["IsDeleted"]]


def version_data(org: Org, version_id: str) -> bytes | None:
    return org.store.blob(version_id)


def _latest_version(org: Org, document_id: str) -> dict:
    versions = [v for v in org.store.of_type("ContentVersion")
                if v["ContentDocumentId"] == document_id and v["IsLatest"] and not v["IsDeleted"]]
    if not versions:
        raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                              ["ContentDocumentId"])
    return versions[0]


def _decode(value: object) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise SalesforceError(400, "JSON_PARSER_ERROR",
                              "Cannot deserialize instance of base64 from VALUE_STRING value") from None


def _check_picklist(values: dict, field: str, label: str, allowed: set[str]) -> None:
    if values[field] not in allowed:
        raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{label}: bad value for restricted picklist field: {values[field]}", [field])
