"""The emulator's stand-ins for the shipped Apex triggers (sf_emulator/apex_triggers.py) against the Apex
source: for every status of the RD_Verification_Status__c picklist, what ResponseDeskPolicy.cls declares
(its HELD and CLEARED sets, read through the Apex grammar, not from the emulator's copy) is what the
emulator does. A held file is refused a link to a customer record; a file uploaded to a KYC check stays
private on records until Response Desk writes a cleared status; a KYC check is approved only once every
file is cleared."""
from __future__ import annotations

import pytest
from defusedxml import ElementTree

from security.apex import ROOT, policy_constants
from sf_emulator.errors import SalesforceError
from sf_emulator.org import Org
from sf_emulator.seed import DOMAIN, seed
from tests.apex import require_apex_tools

STATUS_FIELD = (ROOT / "salesforce" / "force-app" / "main" / "default" / "objects" / "ContentVersion" / "fields"
                / "RD_Verification_Status__c.field-meta.xml")
_NS = "{http://soap.sforce.com/2006/04/metadata}"


def picklist_statuses() -> list[str]:
    root = ElementTree.parse(STATUS_FIELD).getroot()
    return [v.findtext(f"{_NS}fullName") for v in root.iter(f"{_NS}value")]


@pytest.fixture(scope="module")
def policy() -> dict:
    require_apex_tools(java=False)
    return policy_constants()


@pytest.fixture
def org() -> Org:
    org = Org()
    seed(org, "empty")
    return org


def user(org: Org, prefix: str) -> str:
    return org.user_by_username(f"{prefix}@{DOMAIN}")["Id"]


def refusal(action) -> str | None:
    try:
        action()
    except SalesforceError as error:
        assert error.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        return error.message
    return None


@pytest.mark.parametrize("status", picklist_statuses())
def test_the_emulator_holds_shares_and_approves_as_the_apex_declares(org, policy, status):
    held, cleared = status in policy["HELD"], status in policy["CLEARED"]
    analyst = user(org, "kyc.morgan")
    account = org.create("Account", {"Name": "Whitfield Holdings"})
    kyc = org.create("KYC_Check__c", {"Name": "KYC-0001", "Status__c": "In Review"})
    version = org.upload_file(user_id=analyst, record_id=kyc, path_on_client="passport.jpg", data=b"id card")
    uploaded = org.get(version)
    assert (uploaded["RD_Verification_Status__c"], uploaded["SharingPrivacy"]) == (
        policy["PENDING"], policy["PRIVATE_ON_RECORDS"])

    org.update(version, {"RD_Verification_Status__c": status})  # Response Desk's write-back
    after = org.get(version)
    assert after["SharingPrivacy"] == policy["SHARED_ON_RECORDS" if cleared else "PRIVATE_ON_RECORDS"]
    assert after["RD_Private_Until_Cleared__c"] is (not cleared)

    document = after["ContentDocumentId"]
    linked = refusal(lambda: org.create("ContentDocumentLink", {"ContentDocumentId": document,
                                                                "LinkedEntityId": account}, user_id=analyst))
    assert (linked is not None) is held
    if held:
        assert linked.startswith(f"Response Desk holds this file ({status})")

    approved = refusal(lambda: org.update(kyc, {"Status__c": "Approved"}, user_id=analyst))
    assert (approved is None) is cleared
    if not cleared:
        assert f"passport ({status})" in approved
    assert org.get(kyc)["Status__c"] == ("Approved" if cleared else "In Review")


def test_only_response_desk_lifts_a_hold_or_the_privacy(org, policy):
    analyst = user(org, "kyc.morgan")
    kyc = org.create("KYC_Check__c", {"Name": "KYC-0002", "Status__c": "In Review"})
    private = org.upload_file(user_id=analyst, record_id=kyc, path_on_client="selfie.jpg", data=b"selfie")
    quarantined = org.upload_file(user_id=analyst, record_id=None, path_on_client="bill.jpg", data=b"bill")
    org.update(quarantined, {"RD_Verification_Status__c": policy["QUARANTINED"]})

    assert refusal(lambda: org.update(private, {"SharingPrivacy": policy["SHARED_ON_RECORDS"]}, user_id=analyst))
    assert refusal(lambda: org.update(private, {"RD_Verification_Status__c": policy["VERIFIED"]}, user_id=analyst))
    assert refusal(lambda: org.update(quarantined, {"RD_Verification_Status__c": policy["RELEASED"]},
                                      user_id=analyst))
    assert org.get(private)["SharingPrivacy"] == policy["PRIVATE_ON_RECORDS"]
    org.update(quarantined, {"RD_Verification_Status__c": policy["RELEASED"]})  # the integration user may
    assert org.get(quarantined)["RD_Verification_Status__c"] == policy["RELEASED"]


def test_a_pending_file_attached_to_a_kyc_check_becomes_private(org, policy):
    analyst = user(org, "kyc.morgan")
    kyc = org.create("KYC_Check__c", {"Name": "KYC-0003", "Status__c": "In Review"})
    version = org.upload_file(user_id=analyst, record_id=None, path_on_client="passport.jpg", data=b"passport")
    assert org.get(version)["SharingPrivacy"] == policy["SHARED_ON_RECORDS"]

    org.create("ContentDocumentLink", {"ContentDocumentId": org.get(version)["ContentDocumentId"],
                                       "LinkedEntityId": kyc}, user_id=analyst)

    assert org.get(version)["SharingPrivacy"] == policy["PRIVATE_ON_RECORDS"]
    assert refusal(lambda: org.update(kyc, {"Status__c": "Approved"}, user_id=analyst))
