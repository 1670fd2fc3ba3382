"""What an org's refusal means, and how often the worker asks the org for the integration user's access."""
import requests
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from core.adapters.salesforce import access
from core.adapters.salesforce.auth import SalesforceAuthError
from core.settings import SalesforceFields


def test_a_hidden_or_missing_field_is_named_with_the_permission_set_that_grants_it():
    said = access.explain("INVALID_FIELD", "No such column 'RD_Risk__c' on sobject of type ContentVersion")
    assert said.startswith("INVALID_FIELD: No such column 'RD_Risk__c'")
    assert "ContentVersion.RD_Risk__c is not deployed, misspelt in [salesforce.fields], or hidden" in said
    assert "Response Desk Integration" in said
    query = access.explain("INVALID_FIELD", "\nSELECT X__c FROM Case\n^\nNo such column 'X__c' on entity 'Case'. If")
    assert "Case.X__c is not deployed" in query
    assert "Modify All Data" in access.explain("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
    assert access.explain("SOMETHING_ELSE", "as the org said") == "SOMETHING_ELSE: as the org said"


def test_a_failed_call_keeps_its_status_and_the_orgs_words():
    refused = SalesforceMalformedRequest("https://org/x", 400, "x", [
        {"message": "Unable to update fields: RD_Score__c.", "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
         "fields": ["RD_Score__c"]}])
    assert access.explain_error(refused).startswith("HTTP 400: INVALID_FIELD_FOR_INSERT_UPDATE: Unable to update")
    busy = SalesforceGeneralError("https://org/x", 503, "x", [{"message": "retry", "errorCode": "SERVER_UNAVAILABLE"}])
    assert access.explain_error(busy) == "HTTP 503: SERVER_UNAVAILABLE: retry"
    assert "pre-authorized" in access.explain_error(SalesforceAuthError(
        "Salesforce sign-in (jwt) refused: invalid_grant: user hasn't approved this consumer"))
    assert access.explain_error(requests.ConnectionError("down")) == "ConnectionError: down"


class Org:
    """Our gateway's reads, answered from a dict; `down` makes every call fail as a busy org would."""

    def __init__(self, permissions: dict[str, bool]):
        self.permissions, self.down, self.calls = permissions, False, 0

    def query(self, soql):
        self.calls += 1
        if self.down:
            raise requests.ConnectionError("org unreachable")
        return iter([{f"Permissions{k}": v for k, v in self.permissions.items()}])

    def describe(self, sobject):
        names = access.written_fields(SalesforceFields())[sobject][0]
        return {"fields": [{"name": n, "updateable": True, "createable": True} for n in names]}


def test_the_worker_asks_once_an_hour_and_keeps_the_last_answer_while_the_org_is_busy():
    org, clock = Org({"QueryAllFiles": False, "ViewAllData": True, "ModifyAllData": True,
                      "DistributeFromPersWksp": True}), [0.0]
    first = access.known_problems(org, SalesforceFields(), now=lambda: clock[0])
    assert len(first) == 1 and "Query All Files" in first[0]
    calls = org.calls
    clock[0] = 60.0
    assert access.known_problems(org, SalesforceFields(), now=lambda: clock[0]) == first and org.calls == calls
    org.down, clock[0] = True, access.PROBE_EVERY_S + 1
    assert access.known_problems(org, SalesforceFields(), now=lambda: clock[0]) == first  # asked, failed, kept
    org.down, org.permissions["QueryAllFiles"] = False, True
    clock[0] = 2 * access.PROBE_EVERY_S + 2
    assert access.known_problems(org, SalesforceFields(), now=lambda: clock[0]) == []
