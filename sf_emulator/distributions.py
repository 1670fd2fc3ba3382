"""Public links to files: ContentDistribution ("Represents information about sharing a document
externally", Object Reference, ContentDistribution, API 32.0 and later:
https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdistribution.htm).
Anyone holding the link reads the file, whatever the org's sharing says: a quarantine must revoke them."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .access import EDIT, insufficient_access

if TYPE_CHECKING:
    from .access import Access
    from .org import Org


def check_new(org: Org, values: dict, access: Access) -> None:
    """Fill in what the org derives. Creating one for a file outside a library needs the user permission
    "Enable Creation of Content Deliveries for Salesforce Files" (API name DistributeFromPersWksp;
    special access rules of the same page); ContentVersionId was read as a reference the caller can see."""
    if not access.has("DistributeFromPersWksp"):
        raise insufficient_access()
    version = org.store.get(values["ContentVersionId"])
    token = secrets.token_urlsafe(18)
    base = f"https://{org.org_id[:15].lower()}.my.salesforce-sites.com/sfc/p/{token}"
    values.update(ContentDocumentId=version["ContentDocumentId"], DistributionPublicUrl=base,
                  ContentDownloadUrl=f"{base}/download", ViewCount=0,
                  Password=secrets.token_urlsafe(12) if values.get("PreferencesPasswordRequired") else None)
    for preference in ("PreferencesAllowViewInBrowser", "PreferencesLinkLatestVersion"):
        values.setdefault(preference, True)


def check_delete(org: Org, distribution: dict, access: Access) -> None:
    """Its owner, or whoever may edit the file (the file's owner, Modify All Data), revokes a public link."""
    if distribution["OwnerId"] != access.user_id and access.file_access(distribution["ContentDocumentId"]) != EDIT:
        raise insufficient_access()
