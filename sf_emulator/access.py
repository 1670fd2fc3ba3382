"""What one caller may see and change: object permissions, field-level security, record sharing and
the access rules of Salesforce Files. An API request runs with its session user's Access; the org's
own set-up (seeding, a test preparing data, a simulated upload) runs with system access, which sees
and changes everything.

Sources, cited beside each rule (titles as Salesforce publishes them):
- Object Reference, ContentVersion: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentversion.htm
- Object Reference, ContentDocumentLink: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocumentlink.htm
- Help, Query All Files: https://help.salesforce.com/s/articleView?id=experience.collab_files_query.htm
- Help, "View All" and "Modify All" Permissions Overview: https://help.salesforce.com/s/articleView?id=platform.users_profiles_view_all_mod_all.htm
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SalesforceError
from .schema import FieldDef, ObjectDef
from .security import Grants

if TYPE_CHECKING:
    from .org import Org

NONE, READ, EDIT = 0, 1, 2  # a user's access to one file
# Link targets that are not records: users, groups and queues, libraries.
NOT_RECORDS = ("005", "00G", "058")
# Objects without object permissions: everyone with API access reads users and the org; files have
# their own rules (below); UserPermissionAccess is the caller's own row.
_UNPERMISSIONED = {"User", "Organization", "ContentWorkspace", "UserPermissionAccess"}
_FILES = {"ContentVersion", "ContentDocument", "ContentDocumentLink", "ContentDistribution"}


def insufficient_access() -> SalesforceError:
    return SalesforceError(400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])


def insufficient_cross_reference(field: str) -> SalesforceError:
    return SalesforceError(400, "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                           "insufficient access rights on cross-reference id", [field])


class Access:
    def __init__(self, org: Org, user_id: str, grants: Grants | None):
        self.org, self.user_id, self.grants = org, user_id, grants
        self._links: dict[str, list[dict]] | None = None

    @property
    def is_system(self) -> bool:
        return self.grants is None

    # -- objects ----------------------------------------------------------------------------------
    def can(self, obj: ObjectDef, op: str) -> bool:
        """Object permission `op` (read, create, edit, delete) on `obj`."""
        if self.is_system or obj.name in _FILES:
            return True
        if obj.name in _UNPERMISSIONED:
            return op == "read"
        return getattr(self.grants.object_access(obj.name), op)

    # -- fields (field-level security) ------------------------------------------------------------
    def sees_field(self, obj: ObjectDef, fdef: FieldDef) -> bool:
        return self.is_system or not obj.fls_governed(fdef) or self._fls(obj, fdef)[0]

    def edits_field(self, obj: ObjectDef, fdef: FieldDef) -> bool:
        return self.is_system or not obj.fls_governed(fdef) or self._fls(obj, fdef)[1]

    def _fls(self, obj: ObjectDef, fdef: FieldDef) -> tuple[bool, bool]:
        deployed = f"{obj.name}.{fdef.name}".lower() in self.org.security.deployed_fields
        return self.grants.field_access(obj.name, fdef.name, deployed)

    # -- records (sharing) ------------------------------------------------------------------------
    def reads(self, record: dict) -> bool:
        obj = self.org.schema.get(record["attributes"]["type"])
        if self.is_system or obj.name in _UNPERMISSIONED:
            return True
        if obj.name in _FILES:
            return self.file_access(_document_of(record)) >= READ
        access = self.grants.object_access(obj.name)
        if not access.read:
            return False
        # View All Data and View All Records ignore sharing ('View All' and 'Modify All' overview);
        # otherwise the owner, an org-wide default that shares, or the parent for ControlledByParent
        # ("Organization-Wide Sharing Defaults", above). Role hierarchy and sharing rules: not modelled.
        if access.view_all or record.get("OwnerId") == self.user_id or obj.sharing in ("Read", "ReadWrite"):
            return True
        return obj.sharing == "ControlledByParent" and self._parent(record, obj, self.reads)

    def edits(self, record: dict) -> bool:
        obj = self.org.schema.get(record["attributes"]["type"])
        if self.is_system:
            return True
        if obj.name in _FILES:
            return self.file_access(_document_of(record)) == EDIT
        if obj.name in _UNPERMISSIONED:
            return False
        access = self.grants.object_access(obj.name)
        if not access.edit:
            return False
        if access.modify_all or record.get("OwnerId") == self.user_id or obj.sharing == "ReadWrite":
            return True
        return obj.sharing == "ControlledByParent" and self._parent(record, obj, self.edits)

    def deletes(self, record: dict) -> bool:
        """Sharing never gives delete: the owner, Modify All Records or Modify All Data do ("Organization-Wide
        Sharing Defaults", https://help.salesforce.com/apex/HTViewHelpDoc?id=security_sharing_owd_about.htm:
        Public Read/Write lets users view and edit, only Public Full Access deletes). A file: its owner."""
        obj = self.org.schema.get(record["attributes"]["type"])
        if self.is_system or (obj.name in _FILES and self.grants.modify_all_data):
            return True
        if obj.name in _FILES:
            return record.get("OwnerId") == self.user_id
        if obj.name in _UNPERMISSIONED:
            return False
        access = self.grants.object_access(obj.name)
        return access.delete and (access.modify_all or record.get("OwnerId") == self.user_id)

    def _parent(self, record: dict, obj: ObjectDef, rule) -> bool:
        parent = self.org.store.get(record.get(obj.parent_field) or "")
        return parent is not None and not parent["IsDeleted"] and rule(parent)

    # -- files ------------------------------------------------------------------------------------
    def finds(self, record: dict, *, named: bool) -> bool:
        """Whether a query returns this row to the caller; `named`: the query pins the row by its id."""
        kind = record["attributes"]["type"]
        if kind in ("ContentVersion", "ContentDocument"):
            return self.lists_file(_document_of(record)) or (named and self.file_access(_document_of(record)) >= READ)
        if kind == "ContentDocumentLink":
            return self.queries_any_link() or self.file_access(record["ContentDocumentId"]) >= READ
        if kind == "ContentDistribution":
            # "Users (including users with the View All Data permission) can query only the files that
            # they have access to" (Object Reference, ContentDistribution, special access rules): a query
            # that names no file lists the public links of files the user owns or is shared; one that
            # names the file or version finds them wherever the user may read the file. Query All Files
            # is documented for ContentDocument and ContentVersion only, so it does not widen this.
            document = record["ContentDocumentId"]
            return self.lists_file(document, query_all_files=False) or (named and self.file_access(document) >= READ)
        return self.reads(record)

    def file_access(self, document_id: str | None) -> int:
        """NONE, READ or EDIT on one file. The owner edits it; a link to the user gives what its ShareType
        says; a link to a record gives the record's access when the link is Inferred (I) and view access
        when it is Viewer (V) (Object Reference, ContentDocumentLink, ShareType: V viewer, C collaborator,
        I inferred from the related record). Modify All Data edits and View All Data reads any file ('View
        All' and 'Modify All' overview), though neither lists them in a query (lists_file)."""
        if self.is_system or self.grants.modify_all_data:
            return EDIT
        doc = self.org.store.get(document_id or "")
        if doc is None or doc["IsDeleted"]:
            return NONE
        if doc["OwnerId"] == self.user_id:
            return EDIT
        best = READ if self.grants.view_all_data else NONE
        for link in self.links(document_id):
            target = link["LinkedEntityId"]
            if target == self.user_id:
                best = max(best, EDIT if link["ShareType"] in ("C", "I") else READ)
            elif not target.startswith(NOT_RECORDS):
                record = self.org.store.get(target)
                if record is None or record["IsDeleted"]:
                    continue
                if link["ShareType"] == "I" and self.edits(record):
                    return EDIT
                if self.reads(record):
                    best = max(best, READ)
        return best

    def lists_file(self, document_id: str | None, *, query_all_files: bool = True) -> bool:
        """Whether a ContentVersion or ContentDocument query that does not name the file returns it.
        Without Query All Files only files the user owns or that are shared with the user directly;
        "if a user only has access to a file because they have access to a record that the file is
        shared with, the file won't be returned in a query such as SELECT Id FROM ContentDocument"
        (Object Reference, ContentVersion, special access rules). View All Data alone does not widen
        it; Query All Files returns all files (Help, Query All Files)."""
        if self.is_system or (query_all_files and self.grants.query_all_files):
            return True
        doc = self.org.store.get(document_id or "")
        return doc is not None and (doc["OwnerId"] == self.user_id
                                    or any(link["LinkedEntityId"] == self.user_id for link in self.links(document_id)))

    def queries_any_link(self) -> bool:
        """Query All Files lifts ContentDocumentLink's filter requirement (API 59.0 and later; Object
        Reference, ContentDocumentLink, special access rules)."""
        return self.is_system or self.grants.query_all_files

    def links(self, document_id: str) -> list[dict]:
        if self._links is None:
            self._links = {}
            for link in self.org.store.of_type("ContentDocumentLink"):
                if not link["IsDeleted"]:
                    self._links.setdefault(link["ContentDocumentId"], []).append(link)
        return self._links.get(document_id, [])

    def forget_links(self) -> None:
        """A link was created or deleted: read them again on next use."""
        self._links = None

    # -- the caller's own permissions -------------------------------------------------------------
    def has(self, permission: str) -> bool:
        return self.is_system or permission in self.grants.user_permissions

    def permission_row(self) -> dict:
        """The caller's UserPermissionAccess row (Object Reference, UserPermissionAccess: "Represents
        the permissions accessibility for a current user", Permissions<PermissionName> booleans)."""
        from .schema_objects import USER_PERMISSIONS

        row = {"attributes": {"type": "UserPermissionAccess"}, "Id": self.user_id, "IsDeleted": False,
               "LastCacheUpdate": None}
        effective = {"ViewAllData": self.is_system or self.grants.view_all_data,
                     "QueryAllFiles": self.is_system or self.grants.query_all_files}
        row.update({f"Permissions{name}": effective.get(name, self.has(name)) for name in USER_PERMISSIONS})
        return row


def _document_of(record: dict) -> str | None:
    if record["attributes"]["type"] == "ContentDocument":
        return record["Id"]
    return record.get("ContentDocumentId")
