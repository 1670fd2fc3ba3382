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


def status_for(state: ItemState | str, risk: Risk | str | None) -> SalesforceStatus:
    """The label for an item's state; a file quarantined because it could not be read says so."""
    if ItemState(state) is ItemState.QUARANTINED and risk == Risk.UNSCANNABLE:
        return SalesforceStatus.UNSCANNABLE
    return _BY_STATE[ItemState(state)]
