"""The Salesforce emulator, driven over real HTTPS by the unmodified simple-salesforce client."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sf_emulator import run_emulator
from sf_emulator.seed import CONSUMER_KEY, CONSUMER_SECRET, DEMO_PASSWORD, DEMO_SECURITY_TOKEN, DOMAIN
from sf_emulator.tls import make_signing_identity

VERSION = "62.0"
INTEGRATION = f"integration@{DOMAIN}"


@pytest.fixture(scope="module")
def emu():
    with run_emulator(seed="empty") as emulator:
        yield emulator


@pytest.fixture
def http(emu):
    return emu.http_session()


def token(emu, http, **form) -> requests.Response:
    return http.post(f"{emu.base_url}/services/oauth2/token", data=form)


def client(emu, http, username: str | None = None) -> Salesforce:
    """The integration user (client credentials), or `username` signing in with its password."""
    if username is None:
        form = dict(grant_type="client_credentials", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET)
    else:
        form = dict(grant_type="password", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET,
                    username=username, password=DEMO_PASSWORD + DEMO_SECURITY_TOKEN)
    body = token(emu, http, **form).json()
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=http,
                      version=VERSION)


@pytest.fixture
def sf(emu, http):
    emu.faults.clear()
    emu.org.set_api_usage(used=0, limit=15000)
    yield client(emu, http)
    emu.faults.clear()


def error_code(exc_info) -> str:
    return exc_info.value.content[0]["errorCode"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- OAuth ---------------------------------------------------------------------------------------------

def test_jwt_bearer_login_verifies_the_assertion_against_the_connected_app_certificate(emu, http):
    key_pem, cert_pem = make_signing_identity("test-app")
    emu.org.add_connected_app("jwt-test-app", "jwt-secret", certificate_pem=cert_pem.decode(),
                              policy="admin_approved", permission_sets=("Response_Desk_Integration",))

    def assertion(key=key_pem, aud="https://login.salesforce.com", exp_minutes=3, sub=INTEGRATION):
        exp = datetime.now(UTC) + timedelta(minutes=exp_minutes)
        claims = {"iss": "jwt-test-app", "sub": sub, "aud": aud, "exp": int(exp.timestamp())}
        return jwt.encode(claims, key, algorithm="RS256")

    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    response = token(emu, http, grant_type=grant, assertion=assertion())
    assert response.status_code == 200
    body = response.json()
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(body)
    assert body["instance_url"] == emu.base_url and body["token_type"] == "Bearer"
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=http,
                    version=VERSION)
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1

    other_key, _ = make_signing_identity("intruder")
    failures = [
        ("invalid assertion", assertion(key=other_key)),
        ("audience is invalid", assertion(aud="https://evil.example")),
        ("expired authorization code", assertion(exp_minutes=-5)),
        ("user hasn't approved this consumer", assertion(sub="nobody@example.com")),
        # a real user the app does not pre-authorise: not in the Response Desk Integration permission set
        ("user hasn't approved this consumer", assertion(sub=f"kyc.morgan@{DOMAIN}")),
    ]
    for description, bad in failures:
        refused = token(emu, http, grant_type=grant, assertion=bad)
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant", "error_description": description}


def test_password_login_needs_the_password_followed_by_the_security_token(emu, http):
    form = dict(grant_type="password", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET,
                username=f"kyc.morgan@{DOMAIN}")
    good = token(emu, http, **form, password=DEMO_PASSWORD + DEMO_SECURITY_TOKEN)
    assert good.status_code == 200 and good.json()["id"].endswith(emu.org.user_by_username(form["username"])["Id"])
    bad = token(emu, http, **form, password=DEMO_PASSWORD)
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_client_credentials_run_as_the_configured_user_and_reject_a_wrong_secret(emu, http):
    ok = token(emu, http, grant_type="client_credentials", client_id=CONSUMER_KEY, client_secret=CONSUMER_SECRET)
    assert ok.json()["id"].endswith(emu.org.integration_user_id)
    wrong = token(emu, http, grant_type="client_credentials", client_id=CONSUMER_KEY, client_secret="nope")
    assert wrong.json()["error"] == "invalid_client"
    unknown = token(emu, http, grant_type="client_credentials", client_id="nope", client_secret="nope")
    assert unknown.json()["error"] == "invalid_client_id"


# --- SOQL ----------------------------------------------------------------------------------------------

def test_query_pages_with_next_records_url_at_the_requested_batch_size(emu, sf):
    for n in range(450):
        emu.org.create("Lead", {"LastName": f"Paged {n:03d}", "Company": "Batch Co"})
    query = "SELECT Id, Name FROM Lead WHERE Company = 'Batch Co' ORDER BY Name"
    first = sf.query(query, headers={"Sforce-Query-Options": "batchSize=200"})
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{VERSION}/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    names = [r["Name"] for r in sf.query_all_iter(query, headers={"Sforce-Query-Options": "batchSize=200"})]
    assert names == [f"Paged {n:03d}" for n in range(450)]
    assert first["records"][0]["attributes"] == {
        "type": "Lead", "url": f"/services/data/v{VERSION}/sobjects/Lead/{first['records'][0]['Id']}"}


def test_query_default_batch_is_2000_rows(emu, sf):
    for n in range(2001):
        emu.org.create("Account", {"Name": f"Bulk {n}", "Industry": "Bulk"})
    first = sf.query("SELECT Id FROM Account WHERE Industry = 'Bulk'")
    assert (len(first["records"]), first["done"]) == (2000, False)
    assert len(sf.query_all("SELECT Id FROM Account WHERE Industry = 'Bulk'")["records"]) == 2001


def test_query_filters_orders_offsets_and_counts(emu, sf):
    account = emu.org.create("Account", {"Name": "Filter Holdings"})
    for first, last, title in [("Ada", "Zed", "CFO"), ("Bo", "Young", None), ("Cy", "Xu", "Trustee"),
                               ("Di", "Young", "cfo")]:
        emu.org.create("Contact", {"AccountId": account, "FirstName": first, "LastName": last, "Title": title})
    where = f"AccountId = '{account[:15]}'"
    rows = sf.query(f"SELECT FirstName FROM Contact WHERE {where} AND (Title = 'CFO' OR Title = null) "
                    "ORDER BY LastName DESC, FirstName ASC")["records"]
    assert [r["FirstName"] for r in rows] == ["Ada", "Bo", "Di"]
    rows = sf.query(f"SELECT FirstName FROM Contact WHERE {where} AND LastName IN ('Xu', 'Zed') "
                    "AND Name LIKE '%u' ORDER BY FirstName")["records"]
    assert [r["FirstName"] for r in rows] == ["Cy"]
    rows = sf.query(f"SELECT FirstName, Account.Name FROM Contact WHERE {where} AND Title != null "
                    "ORDER BY FirstName LIMIT 1 OFFSET 1")["records"]
    assert rows[0]["FirstName"] == "Cy" and rows[0]["Account"]["Name"] == "Filter Holdings"
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE {where}") == {"totalSize": 4, "done": True, "records": []}
    stamp = emu.org.get(account)["CreatedDate"]
    assert sf.query(f"SELECT COUNT() FROM Account WHERE Id = '{account}' AND CreatedDate >= {stamp} "
                    f"AND CreatedDate <= {stamp[:19]}Z")["totalSize"] == 1


def test_malformed_queries_and_unknown_fields_return_salesforce_errors(emu, sf, http):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Account WHERE")
    assert error_code(caught) == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Nope FROM Account")
    assert error_code(caught) == "INVALID_FIELD" and "No such column 'Nope'" in caught.value.content[0]["message"]
    analyst = client(emu, http, f"kyc.morgan@{DOMAIN}")  # no Query All Files: links need a filter
    with pytest.raises(SalesforceMalformedRequest) as caught:
        analyst.query("SELECT Id FROM ContentDocumentLink")
    assert error_code(caught) == "MALFORMED_QUERY"


def test_query_all_includes_deleted_rows(emu, sf):
    lead = sf.Lead.create({"LastName": "Gone", "Company": "Deleted Co"})["id"]
    sf.Lead.delete(lead)
    query = f"SELECT Id, IsDeleted FROM Lead WHERE Id = '{lead}'"
    assert sf.query(query)["totalSize"] == 0
    assert sf.query_all(query, include_deleted=True)["records"][0]["IsDeleted"] is True
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.get(lead)
    assert error_code(caught) == "ENTITY_IS_DELETED"


# --- Files ---------------------------------------------------------------------------------------------

def upload(sf, record_id: str, data: bytes, name: str = "passport.jpg") -> str:
    return sf.ContentVersion.create({"Title": "Passport scan", "PathOnClient": name, "VersionData": b64(data),
                                     "FirstPublishLocationId": record_id})["id"]


def test_content_version_upload_creates_the_document_links_and_downloads_byte_for_byte(emu, sf, http):
    account = sf.Account.create({"Name": "Files Ltd"})["id"]
    data = bytes(range(256)) * 700  # 179,200 bytes: several stream chunks
    version_id = upload(sf, account, data)
    row = sf.query(f"SELECT Id, ContentDocumentId, IsLatest, VersionNumber, ContentSize, Checksum, FileExtension, "
                   f"FileType, CreatedById, CreatedDate, SystemModstamp, VersionData, ContentDocument.Title "
                   f"FROM ContentVersion WHERE Id = '{version_id}'")["records"][0]
    assert (row["IsLatest"], row["VersionNumber"], row["ContentSize"]) == (True, "1", len(data))
    assert row["Checksum"] == hashlib.md5(data).hexdigest()
    assert (row["FileExtension"], row["FileType"]) == ("jpg", "JPG")
    assert row["CreatedById"] == emu.org.integration_user_id
    assert row["SystemModstamp"].endswith(".000+0000") and row["ContentDocument"]["Title"] == "Passport scan"
    links = sf.query(f"SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink "
                     f"WHERE ContentDocumentId IN ('{row['ContentDocumentId']}') ORDER BY ShareType")["records"]
    assert [(link["LinkedEntityId"], link["ShareType"], link["Visibility"]) for link in links] == [
        (emu.org.integration_user_id, "I", "AllUsers"), (account, "V", "AllUsers")]
    response = http.get(f"{emu.base_url}{row['VersionData']}", headers=sf.headers, stream=True)
    assert response.headers["content-type"] == "application/octet-stream"
    assert b"".join(response.iter_content(8192)) == data


def test_owner_link_cannot_be_deleted_while_record_links_can_be_removed_and_restored(emu, sf):
    case = sf.Case.create({"Subject": "KYC refresh"})["id"]
    version_id = emu.upload_file(username=f"kyc.sam@{DOMAIN}", record_id=case, path_on_client="id.png",
                                 data=b"\x89PNG fake")
    document = emu.org.get(version_id)["ContentDocumentId"]
    links = {link["ShareType"]: link for link in sf.query(
        f"SELECT Id, LinkedEntityId, ShareType FROM ContentDocumentLink WHERE ContentDocumentId = '{document}'")["records"]}
    assert links["I"]["LinkedEntityId"] == emu.org.user_by_username(f"kyc.sam@{DOMAIN}")["Id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentDocumentLink.delete(links["I"]["Id"])
    assert error_code(caught) == "FIELD_INTEGRITY_EXCEPTION"
    assert sf.ContentDocumentLink.delete(links["V"]["Id"]) == 204
    assert sf.query(f"SELECT COUNT() FROM ContentDocumentLink WHERE LinkedEntityId = '{case}'")["totalSize"] == 0
    link = {"ContentDocumentId": document, "LinkedEntityId": case, "ShareType": "V", "Visibility": "AllUsers"}
    assert sf.ContentDocumentLink.create(link)["success"] is True
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentDocumentLink.create(link)
    assert error_code(caught) == "DUPLICATE_VALUE"


def test_deployed_custom_fields_on_content_version_are_stored_and_queryable(emu, sf):
    account = sf.Account.create({"Name": "Verified Co"})["id"]
    version_id = upload(sf, account, b"jpeg bytes")
    assert sf.ContentVersion.update(version_id, {"RD_Verification_Status__c": "Quarantined", "RD_Score__c": 0.97}) == 204
    row = sf.query("SELECT Id, RD_Verification_Status__c, RD_Score__c FROM ContentVersion "
                   "WHERE RD_Verification_Status__c = 'Quarantined'")["records"]
    assert [(r["Id"], r["RD_Score__c"]) for r in row] == [(version_id, 0.97)]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.ContentVersion.update(version_id, {"Checksum": "x"})
    assert error_code(caught) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_uploading_a_new_version_keeps_one_latest(emu, sf):
    account = sf.Account.create({"Name": "Versioned"})["id"]
    first = upload(sf, account, b"v1")
    document = emu.org.get(first)["ContentDocumentId"]
    second = sf.ContentVersion.create({"ContentDocumentId": document, "PathOnClient": "passport.jpg",
                                       "VersionData": b64(b"v2")})["id"]
    rows = sf.query(f"SELECT Id, IsLatest, VersionNumber FROM ContentVersion WHERE ContentDocumentId = '{document}' "
                    "ORDER BY VersionNumber")["records"]
    assert [(r["Id"], r["IsLatest"], r["VersionNumber"]) for r in rows] == [(first, False, "1"), (second, True, "2")]


# --- Collections, upsert, email ------------------------------------------------------------------------

def test_collections_create_update_and_delete_report_per_record_results(sf):
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Contact"}, "FirstName": "No", "Email": "no-last-name@example.com"}]})
    assert created[0]["success"] is True and created[0]["errors"] == []
    assert created[1] == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                        "message": "Required fields are missing: [LastName]",
                                                        "fields": ["LastName"]}]}
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "id": created[0]["id"], "Name": "One renamed"}]})
    assert updated == [{"id": created[0]["id"], "success": True, "errors": []}]
    assert sf.Account.get(created[0]["id"])["Name"] == "One renamed"
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": created[0]["id"]})
    assert deleted == [{"id": created[0]["id"], "success": True, "errors": []}]


def test_all_or_none_rolls_back_every_record_when_one_fails(emu, sf):
    before = len(emu.org.records("Account"))
    result = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "Would be created"},
        {"attributes": {"type": "Account"}, "Industry": "No name"}]})
    assert [r["success"] for r in result] == [False, False]
    assert result[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert result[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert len(emu.org.records("Account")) == before
    assert emu.request_log.entries()[-1].effects == []


def test_collections_refuse_more_than_200_records(sf):
    records = [{"attributes": {"type": "Account"}, "Name": f"A{n}"} for n in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert error_code(caught) == "EXCEEDED_ID_LIMIT"


def test_upsert_by_external_id_is_idempotent(emu, sf):
    version_id = upload(sf, sf.Account.create({"Name": "History"})["id"], b"img")
    records = [{"attributes": {"type": "RD_Media_Verification__c"}, "RD_External_Id__c": f"{version_id}:{n}",
                "RD_Content_Version_Id__c": version_id, "RD_Verification_Status__c": "Pending"} for n in range(3)]
    path = "composite/sobjects/RD_Media_Verification__c/RD_External_Id__c"
    first = sf.restful(path, method="PATCH", json={"allOrNone": True, "records": records})
    second = sf.restful(path, method="PATCH", json={"allOrNone": True, "records": records})
    assert [r["created"] for r in first] == [True] * 3 and [r["created"] for r in second] == [False] * 3
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert len(emu.org.records("RD_Media_Verification__c")) == 3
    single = sf.RD_Media_Verification__c.upsert(f"RD_External_Id__c/{version_id}:0",
                                                {"RD_Verification_Status__c": "Quarantined"}, raw_response=True)
    assert single.status_code == 200 and single.json()["created"] is False
    ops = [e["op"] for e in emu.request_log.effects(record_id=first[0]["id"])]
    assert ops == ["create", "update", "update"]


def test_email_simple_delivers_and_is_recorded_in_the_org(emu, sf):
    result = sf.restful("actions/standard/emailSimple", method="POST", json={"inputs": [{
        "emailAddresses": "analyst@harborvale.example", "emailSubject": "Review needed",
        "emailBody": "A file on KYC-0001 needs review.", "senderType": "CurrentUser"}]})
    assert result == [{"actionName": "emailSimple", "errors": None, "isSuccess": True, "outputValues": None}]
    sent = emu.org.emails[-1]
    assert (sent["to"], sent["subject"], sent["sentByUserId"]) == (
        ["analyst@harborvale.example"], "Review needed", emu.org.integration_user_id)
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("actions/standard/emailSimple", method="POST", json={"inputs": [{"emailAddresses": "a@b.co"}]})


# --- Limits, sessions and faults -----------------------------------------------------------------------

def test_every_api_response_carries_usage_and_an_exhausted_limit_returns_403(emu, sf):
    emu.org.set_api_usage(used=0, limit=3)
    sf.query("SELECT Id FROM Organization")
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 3
    sf.query("SELECT Id FROM Organization")
    sf.query("SELECT Id FROM Organization")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Organization")
    assert error_code(caught) == "REQUEST_LIMIT_EXCEEDED"
    emu.org.set_api_usage(limit=10)
    assert sf.restful("limits")["DailyApiRequests"] == {"Max": 10, "Remaining": 6}


def test_expired_sessions_get_invalid_session_id(emu, sf, http):
    sf.query("SELECT Id FROM Organization")
    emu.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Organization")
    assert caught.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    fresh = client(emu, http)
    emu.faults.expire_session(path="/query", after=1)
    fresh.query("SELECT Id FROM Organization")
    with pytest.raises(SalesforceExpiredSession):
        fresh.query("SELECT Id FROM Organization")
    emu.org.sessions.ttl_seconds = 0.2
    try:
        short = client(emu, http)
        short.query("SELECT Id FROM Organization")
        time.sleep(0.3)
        with pytest.raises(SalesforceExpiredSession):
            short.query("SELECT Id FROM Organization")
    finally:
        emu.org.sessions.ttl_seconds = 7200


def test_503_for_the_next_n_calls_then_recovery(emu, sf):
    emu.faults.unavailable(times=2, method="GET", path="/query")
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM Organization")
        assert caught.value.status == 503
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1
    assert [e.fault for e in emu.request_log.entries()[-3:]] == ["unavailable", "unavailable", None]


def test_503_with_a_seeded_probability(emu, sf):
    emu.faults.reseed(7)
    emu.faults.unavailable(times=None, probability=0.5, path="/query")
    outcomes = []
    for _ in range(20):
        try:
            sf.query("SELECT Id FROM Organization")
            outcomes.append(True)
        except SalesforceGeneralError:
            outcomes.append(False)
    assert 0 < outcomes.count(False) < 20


def test_injected_request_limit_exceeded(emu, sf):
    emu.faults.request_limit_exceeded(times=1)
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Organization")
    assert error_code(caught) == "REQUEST_LIMIT_EXCEEDED"
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_slow_responses_are_delayed(emu, sf):
    emu.faults.slow(delay_ms=400, times=1)
    started = time.perf_counter()
    sf.query("SELECT Id FROM Organization")
    assert time.perf_counter() - started >= 0.4


def test_dropped_connection_before_and_after_the_effect(emu, sf):
    emu.faults.drop_connection(times=1, method="POST")
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "Never arrives"})
    assert not [a for a in emu.org.records("Account") if a["Name"] == "Never arrives"]
    emu.faults.drop_connection(times=1, method="PATCH", phase="after")
    account = sf.Account.create({"Name": "Before"})["id"]
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.update(account, {"Name": "After"})
    assert emu.org.get(account)["Name"] == "After"
    assert [e["op"] for e in emu.request_log.effects(record_id=account)] == ["create", "update"]


def test_faults_target_method_and_path_only(emu, sf):
    emu.faults.unavailable(times=1, method="PATCH", path=r"/sobjects/Account/")
    sf.query("SELECT Id FROM Organization")
    account = sf.Account.create({"Name": "Targeted"})["id"]
    with pytest.raises(SalesforceGeneralError):
        sf.Account.update(account, {"Name": "Targeted 2"})
    assert sf.Account.update(account, {"Name": "Targeted 2"}) == 204


# --- Control endpoints and request log -----------------------------------------------------------------

def test_control_endpoints_serve_the_log_faults_and_uploads(emu, sf, http):
    emu.request_log.clear()
    account = sf.Account.create({"Name": "Control"})["id"]
    control = f"{emu.base_url}/__emulator"
    uploaded = http.post(f"{control}/files", json={"username": f"advisor.ruth@{DOMAIN}", "record_id": account,
                                                   "path_on_client": "selfie.jpg", "data_base64": b64(b"x")})
    assert uploaded.status_code == 201
    assert emu.org.get(uploaded.json()["contentVersionId"])["CreatedById"] == \
        emu.org.user_by_username(f"advisor.ruth@{DOMAIN}")["Id"]
    rule = http.post(f"{control}/faults", json={"kind": "unavailable", "times": 1, "path": "/query"})
    assert rule.status_code == 201 and http.get(f"{control}/faults").json()[0]["kind"] == "unavailable"
    with pytest.raises(SalesforceGeneralError):
        sf.query("SELECT Id FROM Organization")
    log = http.get(f"{control}/requests").json()
    create = next(e for e in log if e["method"] == "POST" and e["path"].endswith("/sobjects/Account/"))
    assert create["api_call"] and create["status"] == 201 and create["user_id"] == emu.org.integration_user_id
    assert create["effects"] == [{"op": "create", "type": "Account", "id": account}]
    assert not any(e["api_call"] for e in log if e["path"].startswith("/__emulator"))
    assert http.post(f"{control}/sessions/expire").json()["expired"] >= 1
    assert emu.request_log.count("POST", r"/sobjects/Account/$") >= 1


def test_sqlite_store_survives_a_restart(tmp_path):
    db = str(tmp_path / "org.db")
    with run_emulator(seed="empty", db_path=db) as first:
        account = first.org.create("Account", {"Name": "Persisted"})
        users = len(first.org.records("User"))
        first.org.upload_file(user_id=first.org.integration_user_id, record_id=account, path_on_client="a.png",
                              data=b"persisted bytes")
    with run_emulator(seed="demo", db_path=db) as second:
        assert second.org.get(account)["Name"] == "Persisted"
        assert len(second.org.records("User")) == users and len(second.org.records("Contact")) == 0
        assert second.org.store.blob(second.org.records("ContentVersion")[0]["Id"]) == b"persisted bytes"
        assert second.org.create("Account", {"Name": "Next"}) > account


def test_demo_seed_is_a_small_firm_with_files(tmp_path):
    with run_emulator(seed="demo") as emu:
        http = emu.http_session()
        sf = client(emu, http, f"admin@{DOMAIN}")
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 20
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 40
        checks = sf.query("SELECT Id, Status__c, Account__r.Name FROM KYC_Check__c")["records"]
        assert len(checks) == 12 and all(c["Account__r"]["Name"] for c in checks)
        files = sf.query("SELECT Id, FileType FROM ContentVersion WHERE IsLatest = true")["records"]
        assert {f["FileType"] for f in files} == {"JPG", "PNG"}
        claims = {"iss": CONSUMER_KEY, "sub": INTEGRATION, "aud": emu.base_url, "exp": int(time.time()) + 180}
        assertion = jwt.encode(claims, emu.jwt_private_key_path.read_text(), algorithm="RS256")
        signed_in = token(emu, http, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion)
        assert signed_in.status_code == 200 and signed_in.json()["instance_url"] == emu.base_url


def test_command_line_prints_the_base_url_and_ca_path(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "sf_emulator", "--port", "0", "--seed", "empty",
                                "--state-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().split()[-1]
        ca_path = process.stdout.readline().split()[-1]
        session = requests.Session()
        session.verify, session.trust_env = ca_path, False
        for _ in range(50):
            try:
                assert session.get(f"{base_url}/__emulator/health").json()["ok"] is True
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("emulator did not answer")
        assert session.get(f"{base_url}/services/data").json()[-1]["url"].startswith("/services/data/v")
    finally:
        process.terminate()
        process.wait(timeout=10)
