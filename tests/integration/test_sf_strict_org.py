"""The emulator refuses what a real org refuses: fields that are not deployed or that field-level security
hides, values that break a field's definition, files a user may not see or change, links that break the
ShareType and Visibility rules, a JWT sign-in the connected app does not pre-authorise. Driven over HTTPS
by the unmodified simple-salesforce client, as each seeded user."""
from __future__ import annotations

import json
import sqlite3

import jwt
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sf_emulator import run_emulator
from sf_emulator.security import INTEGRATION_PROFILE
from sf_emulator.seed import CONSUMER_KEY, CONSUMER_SECRET, DEMO_PASSWORD, DEMO_SECURITY_TOKEN, DOMAIN

VERSION = "62.0"
INTEGRATION, MORGAN, SAM, ADMIN = (f"{u}@{DOMAIN}" for u in ("integration", "kyc.morgan", "kyc.sam", "admin"))
FILES = "Response_Desk_File_Access"


@pytest.fixture
def emu():
    with run_emulator(seed="empty") as emulator:
        yield emulator


def sign_in(emu, username: str) -> Salesforce:
    http = emu.http_session()
    body = http.post(f"{emu.base_url}/services/oauth2/token", data=dict(
        grant_type="password", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET, username=username,
        password=DEMO_PASSWORD + DEMO_SECURITY_TOKEN)).json()
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=http,
                      version=VERSION)


def user(emu, username: str) -> str:
    return emu.org.user_by_username(username)["Id"]


def morgans_file(emu) -> tuple[str, str, str]:
    """A KYC check Morgan owns (private to her) with her passport on it: (kyc, version, document)."""
    kyc = emu.org.create("KYC_Check__c", {"Name": "KYC-7"}, user_id=user(emu, MORGAN))
    version = emu.upload_file(username=MORGAN, record_id=kyc, path_on_client="passport.jpg", data=b"\xff\xd8 id")
    return kyc, version, emu.org.get(version)["ContentDocumentId"]


def refusal(caught) -> dict:
    [body] = caught.value.content
    return body


# --- fields: deployed, typed, governed by field-level security -----------------------------------------

def test_a_field_that_is_not_deployed_is_no_such_column_everywhere(emu):
    sf = sign_in(emu, INTEGRATION)
    _, version, _ = morgans_file(emu)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, RD_Risk_Level__c FROM ContentVersion")  # a typo in [salesforce.fields]
    assert refusal(caught)["errorCode"] == "INVALID_FIELD"
    assert "No such column 'RD_Risk_Level__c' on entity 'ContentVersion'" in refusal(caught)["message"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentVersion.update(version, {"RD_Risk_Level__c": "high"})
    assert refusal(caught) == {"message": "No such column 'RD_Risk_Level__c' on sobject of type ContentVersion",
                               "errorCode": "INVALID_FIELD"}
    # In a collection the whole request fails: the good record is not written either.
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects", method="PATCH", json={"records": [
            {"attributes": {"type": "ContentVersion"}, "Id": version, "RD_Risk__c": "high"},
            {"attributes": {"type": "ContentVersion"}, "Id": version, "RD_Risk_Level__c": "high"}]})
    assert emu.org.get(version)["RD_Risk__c"] is None


def test_values_that_break_a_fields_definition_fail_their_record_only(emu):
    sf = sign_in(emu, INTEGRATION)
    versions = [morgans_file(emu)[1] for _ in range(4)]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "ContentVersion"}, "Id": versions[0], "RD_Risk__c": "x" * 17},
        {"attributes": {"type": "ContentVersion"}, "Id": versions[1], "RD_Verification_Status__c": "Approved"},
        {"attributes": {"type": "ContentVersion"}, "Id": versions[2], "RD_Score__c": 12.5},
        {"attributes": {"type": "ContentVersion"}, "Id": versions[3], "RD_Score__c": 0.912345,
         "RD_Verified_At__c": "2026-11-30T10:00:00.000Z", "RD_Verification_Status__c": "Verified"}]})
    assert [r["success"] for r in results] == [False, False, False, True]
    assert results[0]["errors"] == [{"statusCode": "STRING_TOO_LONG", "fields": ["RD_Risk__c"],
                                     "message": f"Verification Risk: data value too large: {'x' * 17} (max length=16)"}]
    assert results[1]["errors"] == [{"statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                     "fields": ["RD_Verification_Status__c"],
                                     "message": "Verification Status: bad value for restricted picklist field: Approved"}]
    assert results[2]["errors"][0]["statusCode"] == "NUMBER_OUTSIDE_VALID_RANGE"
    stored = emu.org.get(versions[3])
    assert (stored["RD_Score__c"], stored["RD_Verified_At__c"]) == (0.9123, "2026-11-30T10:00:00.000+0000")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentVersion.update(versions[0], {"RD_Risk__c": "x" * 17})
    assert caught.value.status == 400 and set(refusal(caught)) == {"message", "errorCode", "fields"}


def test_field_level_security_hides_one_field_and_locks_another(emu):
    sf = sign_in(emu, INTEGRATION)
    _, version, _ = morgans_file(emu)
    emu.org.security.set_field_permission("Response_Desk_Integration", "ContentVersion.RD_Risk__c",
                                          read=False, edit=False)
    emu.org.security.set_field_permission("Response_Desk_Integration", "ContentVersion.RD_Score__c",
                                          read=True, edit=False)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(f"SELECT RD_Risk__c FROM ContentVersion WHERE Id = '{version}'")
    assert "No such column 'RD_Risk__c'" in refusal(caught)["message"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentVersion.update(version, {"RD_Score__c": 0.5})
    assert refusal(caught)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert refusal(caught)["fields"] == ["RD_Score__c"]
    fields = {f["name"]: f for f in sf.ContentVersion.describe()["fields"]}
    assert "RD_Risk__c" not in fields and fields["RD_Score__c"]["updateable"] is False
    assert fields["RD_Verification_Status__c"]["restrictedPicklist"] is True and fields["RD_SHA256__c"]["length"] == 64
    assert "RD_Risk__c" not in sf.ContentVersion.get(version)


def test_an_uploader_reads_the_verdict_but_cannot_write_it(emu):
    _, version, _ = morgans_file(emu)
    morgan = sign_in(emu, MORGAN)
    assert morgan.query(f"SELECT RD_Verification_Status__c FROM ContentVersion WHERE Id = '{version}'")["totalSize"] == 1
    with pytest.raises(SalesforceMalformedRequest) as caught:
        morgan.ContentVersion.update(version, {"RD_Verification_Status__c": "Verified"})
    assert refusal(caught)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_an_external_id_marked_unique_takes_each_value_once(emu):
    sf = sign_in(emu, INTEGRATION)
    sf.RD_Media_Verification__c.create({"RD_External_Id__c": "rd-1-scan"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.RD_Media_Verification__c.create({"RD_External_Id__c": "RD-1-SCAN"})  # not case sensitive
    assert refusal(caught)["errorCode"] == "DUPLICATE_VALUE"
    assert emu.org.records("RD_Media_Verification__c")[0]["Name"].startswith("MV-")  # the AutoNumber name


# --- objects and records: object permissions and sharing -------------------------------------------------

def test_an_object_without_read_permission_is_not_supported_and_private_records_stay_private(emu):
    bare = emu.org.add_user(f"bare@{DOMAIN}", "Bare", "Profile", password=DEMO_PASSWORD,
                            security_token=DEMO_SECURITY_TOKEN)
    emu.org.security.assign(bare, profile=INTEGRATION_PROFILE)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sign_in(emu, f"bare@{DOMAIN}").query("SELECT Id FROM Account")
    assert refusal(caught)["errorCode"] == "INVALID_TYPE"
    kyc, _, _ = morgans_file(emu)
    with pytest.raises(SalesforceResourceNotFound):
        sign_in(emu, SAM).KYC_Check__c.get(kyc)  # another analyst's KYC check (org-wide default: Private)
    assert sign_in(emu, MORGAN).KYC_Check__c.get(kyc)["Id"] == kyc


# --- files: Query All Files, Modify All Data, link rules, public links -----------------------------------

def test_without_query_all_files_a_query_lists_only_own_files_but_finds_a_named_one(emu):
    _, version, _ = morgans_file(emu)
    emu.org.security.revoke_user_permission(FILES, "QueryAllFiles")
    sf = sign_in(emu, INTEGRATION)
    assert sf.query("SELECT Id FROM ContentVersion WHERE IsLatest = true")["totalSize"] == 0
    assert sf.query(f"SELECT Id FROM ContentVersion WHERE Id = '{version}'")["totalSize"] == 1  # View All Data
    permissions = sf.query("SELECT PermissionsQueryAllFiles, PermissionsViewAllData, PermissionsModifyAllData "
                           "FROM UserPermissionAccess")["records"][0]
    assert (permissions["PermissionsQueryAllFiles"], permissions["PermissionsViewAllData"]) == (False, True)
    emu.org.security.assign(user(emu, INTEGRATION), permission_sets=(FILES,))
    emu.org.security.permission_sets[FILES].user_permissions.add("QueryAllFiles")
    emu.org.security.changed()
    assert sign_in(emu, INTEGRATION).query("SELECT Id FROM ContentVersion WHERE IsLatest = true")["totalSize"] == 1


def test_changing_another_users_file_needs_ownership_or_modify_all_data(emu):
    kyc, version, document = morgans_file(emu)
    emu.org.security.revoke_user_permission(FILES, "ModifyAllData")
    sf = sign_in(emu, INTEGRATION)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentVersion.update(version, {"SharingPrivacy": "P"})
    assert refusal(caught) == {"message": "insufficient access rights on object id",
                               "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY", "fields": []}
    link = sf.query(f"SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '{document}' "
                    f"AND LinkedEntityId = '{kyc}'")["records"][0]["Id"]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": link})
    assert deleted[0]["errors"][0]["statusCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert sign_in(emu, MORGAN).ContentVersion.update(version, {"SharingPrivacy": "P"}) == 204  # her own file


def test_links_follow_the_share_type_and_visibility_rules(emu):
    kyc, _, document = morgans_file(emu)
    account = emu.org.create("Account", {"Name": "Links Ltd"})
    sf = sign_in(emu, INTEGRATION)

    def link(entity: str, share: str, visibility: str = "AllUsers") -> dict:
        return sf.restful("composite/sobjects", method="POST", json={"records": [
            {"attributes": {"type": "ContentDocumentLink"}, "ContentDocumentId": document, "LinkedEntityId": entity,
             "ShareType": share, "Visibility": visibility}]})[0]

    refused = link(account, "C")
    assert refused["errors"] == [{"statusCode": "INSUFFICIENT_ACCESS_OR_READONLY", "message": "Invalid sharing type C",
                                  "fields": ["ShareType"]}]
    assert link(account, "V", "SharedUsers")["errors"][0]["fields"] == ["Visibility"]
    assert link(account, "Z")["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert link(account, "I", "InternalUsers")["success"] is True
    assert link(user(emu, SAM), "I")["errors"][0]["message"] == "Invalid sharing type I"
    shared = link(user(emu, SAM), "V", "SharedUsers")
    assert shared["success"] is True
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentDocumentLink.update(shared["id"], {"Visibility": "AllUsers"})  # only links to records change it
    assert refusal(caught)["fields"] == ["Visibility"]
    owner = sf.query(f"SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '{document}' "
                     f"AND ShareType = 'I' AND LinkedEntityId = '{user(emu, MORGAN)}'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentDocumentLink.delete(owner)
    assert refusal(caught) == {"message": "field integrity exception", "errorCode": "FIELD_INTEGRITY_EXCEPTION",
                               "fields": []}


def test_public_links_are_created_found_by_file_and_revoked(emu):
    _, version, document = morgans_file(emu)
    morgan = sign_in(emu, MORGAN)
    created = morgan.ContentDistribution.create({"Name": "For the notary", "ContentVersionId": version,
                                                 "PreferencesAllowViewInBrowser": True})
    public = emu.org.get(created["id"])
    assert public["ContentDocumentId"] == document and public["DistributionPublicUrl"].startswith("https://")
    sf = sign_in(emu, INTEGRATION)
    emu.org.security.revoke_user_permission("Response_Desk_File_Access", "DistributeFromPersWksp")
    with pytest.raises(SalesforceMalformedRequest) as caught:  # no "Create public links" permission
        sf.ContentDistribution.create({"Name": "Leak", "ContentVersionId": version})
    assert refusal(caught)["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert sf.query("SELECT Id FROM ContentDistribution")["totalSize"] == 0  # not its file
    rows = sf.query(f"SELECT Id, DistributionPublicUrl FROM ContentDistribution WHERE ContentDocumentId = '{document}'")
    assert [r["Id"] for r in rows["records"]] == [created["id"]]
    assert sf.ContentDistribution.delete(created["id"]) == 204  # Modify All Data revokes it
    assert sf.query_all(f"SELECT Id, IsDeleted FROM ContentDistribution WHERE Id = '{created['id']}'",
                        include_deleted=True)["records"][0]["IsDeleted"] is True


def test_deleting_a_file_revokes_its_public_links(emu):
    _, version, document = morgans_file(emu)
    morgan = sign_in(emu, MORGAN)
    link = morgan.ContentDistribution.create({"Name": "Share", "ContentVersionId": version})["id"]
    assert morgan.ContentDocument.delete(document) == 204
    assert emu.org.get(link)["IsDeleted"] is True


# --- signing in: the connected app's pre-authorisation ---------------------------------------------------

def jwt_sign_in(emu) -> requests.Response:
    claims = {"iss": CONSUMER_KEY, "sub": INTEGRATION, "aud": emu.base_url, "exp": 2_000_000_000}
    assertion = jwt.encode(claims, emu.jwt_private_key_path.read_text(), algorithm="RS256")
    return emu.http_session().post(f"{emu.base_url}/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})


def test_jwt_sign_in_needs_the_user_pre_authorised_by_the_connected_app(emu):
    assert jwt_sign_in(emu).status_code == 200
    emu.org.security.unassign(user(emu, INTEGRATION), "Response_Desk_Integration")
    refused = jwt_sign_in(emu)
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_grant",
                                                           "error_description": "user hasn't approved this consumer"})
    emu.org.security.assign(user(emu, INTEGRATION), permission_sets=("Response_Desk_Integration",))
    emu.org.update_connected_app(CONSUMER_KEY, policy="self_authorize")  # the default policy: nobody approved
    assert jwt_sign_in(emu).json()["error_description"] == "user hasn't approved this consumer"


def test_an_org_kept_from_before_permissions_gets_the_seeded_access_when_it_starts(tmp_path):
    db = str(tmp_path / "org.db")
    with run_emulator(seed="empty", db_path=db):
        pass
    with sqlite3.connect(db) as stored:  # as a --db org kept from before users had permissions
        stored.execute("DELETE FROM meta WHERE key = 'assignments'")
        apps = json.loads(stored.execute("SELECT value FROM meta WHERE key = 'connected_apps'").fetchone()[0])
        apps[CONSUMER_KEY] = {k: v for k, v in apps[CONSUMER_KEY].items() if k not in ("policy", "permission_sets")}
        stored.execute("UPDATE meta SET value = ? WHERE key = 'connected_apps'", (json.dumps(apps),))
    with run_emulator(seed="empty", db_path=db) as second:
        assert set(second.org.security.permission_sets_of(user(second, INTEGRATION))) == {
            "Response_Desk_Integration", FILES}
        assert jwt_sign_in(second).status_code == 200


def test_version_data_of_a_file_the_user_cannot_see_is_not_found(emu):
    _, version, _ = morgans_file(emu)
    sam = sign_in(emu, SAM)
    response = sam.session.get(f"{sam.base_url}sobjects/ContentVersion/{version}/VersionData", headers=sam.headers)
    assert response.status_code == 404
    morgan = sign_in(emu, MORGAN)
    data = morgan.session.get(f"{morgan.base_url}sobjects/ContentVersion/{version}/VersionData", headers=morgan.headers)
    assert data.content == b"\xff\xd8 id"
