"""Salesforce Files: ContentVersion -> ContentDocument -> ContentDocumentLink, and their rules."""
from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
from typing import TYPE_CHECKING

from . import apex_triggers
from .access import EDIT, NOT_RECORDS, insufficient_access
from .clock import format_datetime
from .errors import SalesforceError

if TYPE_CHECKING:
    from .access import Access
    from .org import Org

# Sources for the link rules below:
# Object Reference, ContentDocumentLink: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocumentlink.htm
# UI API, Content Document Link: https://developer.salesforce.com/docs/atlas.en-us.uiapi.meta/uiapi/ui_api_responses_contentdocumentlink.htm

FILE_TYPES = {
    "jpg": "JPG", "jpeg": "JPG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF",
    "pdf": "PDF", "txt": "TEXT", "csv": "CSV", "doc": "WORD", "docx": "WORD_X", "xls": "EXCEL",
    "xlsx": "EXCEL_X", "mp4": "MP4", "mov": "MOV", "mp3": "MP3", "wav": "WAV", "zip": "ZIP",
    "webp": "WEBP", "heic": "HEIC",
}


def create_version(org: Org, values: dict, access: Access, when: str | None = None) -> str:
    """A new file (document, owner link, first-publish link) or a new version of an existing one. A new
    version needs edit access to the file: Query All Files "can't ... upload new versions ... of files
    that they don't have access to" (Help, Query All Files)."""
    from .crud import insert  # crud imports this module

    user_id = access.user_id
    if values.get("ContentDocumentId") and access.file_access(values["ContentDocumentId"]) != EDIT:
        raise insufficient_access()
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


def check_new_link(org: Org, values: dict, access: Access) -> None:
    """A new link: its ContentDocumentId and LinkedEntityId were read as references the caller can see."""
    document_id, entity_id = values["ContentDocumentId"], values["LinkedEntityId"]
    values.setdefault("ShareType", "V")
    values.setdefault("Visibility", "AllUsers")
    _check_share(values, entity_id)
    if any(link["LinkedEntityId"] == entity_id for link in access.links(document_id)):
        raise SalesforceError(400, "DUPLICATE_VALUE", f"Document with ID: {document_id} is already linked "
                              f"with the entity with ID: {entity_id}", ["LinkedEntityId"])


def check_link_update(org: Org, link: dict, values: dict) -> None:
    """Visibility "can be updated on links to files posted on standard and custom object records, but not
    to users, groups, or content libraries" (UI API, Content Document Link)."""
    if "Visibility" in values and link["LinkedEntityId"].startswith(NOT_RECORDS):
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", "Visibility can be changed only on links to records",
                              ["Visibility"])
    _check_share({**link, **values}, link["LinkedEntityId"])


def check_link_delete(org: Org, link: dict, access: Access) -> None:
    """The owner's link (ShareType I, created with the file) cannot be deleted: a real org answers
    FIELD_INTEGRITY_EXCEPTION (salesforce.stackexchange.com/questions/274499, "Unable to delete
    ContentDocumentLink"). Any other link needs edit access to the file, or to the record it links to;
    without either, INSUFFICIENT_ACCESS_OR_READONLY."""
    doc = org.store.get(link["ContentDocumentId"])
    if doc and link["LinkedEntityId"] == doc["OwnerId"]:
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", "field integrity exception", [])
    if access.file_access(link["ContentDocumentId"]) == EDIT or link["LinkedEntityId"] == access.user_id:
        return
    target = org.store.get(link["LinkedEntityId"])
    if target is None or link["LinkedEntityId"].startswith(NOT_RECORDS) or not access.edits(target):
        raise insufficient_access()


def _check_share(values: dict, entity_id: str) -> None:
    """ShareType V (viewer), C (collaborator) or I (inferred from the related record). A record takes V or
    I: collaborator access to a file comes from the record, not the link; a user or group takes V or C,
    I being the owner's own link (Object Reference, ContentDocumentLink, ShareType). A real org refuses
    the others with INSUFFICIENT_ACCESS_OR_READONLY "Invalid sharing type I: [ShareType]" (quoted from an
    org's answer in github.com/douglascayers/sfdc-convert-attachments-to-chatter-files/issues/24).
    SharedUsers "is used only for files shared with users" (UI API, Content Document Link)."""
    to_record = not entity_id.startswith(NOT_RECORDS)
    if values["ShareType"] not in (("V", "I") if to_record else ("V", "C")):
        raise SalesforceError(400, "INSUFFICIENT_ACCESS_OR_READONLY", f"Invalid sharing type {values['ShareType']}",
                              ["ShareType"])
    if values["Visibility"] == "SharedUsers" and not entity_id.startswith("005"):
        raise SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", "Visibility SharedUsers is only for files shared "
                              "with users", ["Visibility"])


def delete_document_parts(org: Org, document_id: str) -> None:
    from .crud import mark_deleted

    # Deleting a file deletes its public links too (Object Reference, ContentDistribution: "If the shared
    # document is deleted, the delete cascades to any associated ContentDistribution").
    for sobject in ("ContentVersion", "ContentDocumentLink", "ContentDistribution"):
        for record in org.store.of_type(sobject):
            if record["ContentDocumentId"] == document_id and not record["IsDeleted"]:
                mark_deleted(org, record)


def delete_links_to(org: Org, entity_id: str) -> None:
    from .crud import mark_deleted

    for link in org.store.of_type("ContentDocumentLink"):
        if link["LinkedEntityId"] == entity_id and not link["IsDeleted"]:
            mark_deleted(org, link)


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
