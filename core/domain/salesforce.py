"""What the org is told about a file: the verification status picklist Response Desk writes
(RD_Verification_Status__c, restricted: salesforce/force-app/.../RD_Verification_Status__c.field-meta.xml;
the Apex in ResponseDeskPolicy.cls names the same values)."""
from __future__ import annotations

from enum import StrEnum

from core.domain.lifecycle import ItemState, Risk


class SalesforceStatus(StrEnum):
    PENDING = "Pending"
    VERIFIED = "Verified"
    QUARANTINED = "Quarantined"
    IN_REVIEW = "In review"
    CONFIRMED_SYNTHETIC = "Confirmed synthetic"
    RELEASED = "Released"
    UNSCANNABLE = "Unscannable"


_BY_STATE = {ItemState.RECEIVED: SalesforceStatus.PENDING, ItemState.SCANNING: SalesforceStatus.PENDING,
             ItemState.CLEAN: SalesforceStatus.VERIFIED, ItemState.QUARANTINED: SalesforceStatus.QUARANTINED,
             ItemState.IN_REVIEW: SalesforceStatus.IN_REVIEW,
             ItemState.CONFIRMED_SYNTHETIC: SalesforceStatus.CONFIRMED_SYNTHETIC,
             ItemState.RELEASED: SalesforceStatus.RELEASED}


def status_for(state: ItemState | str, risk: Risk | str | None, *, links_restored: bool = True) -> SalesforceStatus:
    """The label for an item's state; a file quarantined because it could not be read says so. A
    released file reads "Released" only once its links are back (verified by reading them again);
    until then the org still holds it, and says so."""
    if ItemState(state) is ItemState.QUARANTINED and risk == Risk.UNSCANNABLE:
        return SalesforceStatus.UNSCANNABLE
    if ItemState(state) is ItemState.RELEASED and not links_restored:
        return SalesforceStatus.QUARANTINED
    return _BY_STATE[ItemState(state)]
