"""Salesforce's error shapes: REST bodies use `errorCode`, per-record results use `statusCode`."""
from __future__ import annotations


class SalesforceError(Exception):
    """`fields` is None for errors about the request (a query, the session), and a list, maybe empty,
    for errors about a record: the REST body then carries it ("Status Codes and Error Responses",
    REST API Developer Guide, https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm)."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def rest_body(self) -> list[dict]:
        body = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = self.fields
        return [body]

    def record_error(self) -> dict:
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


class RequestError(SalesforceError):
    """An error in reading the request itself (an unknown field, a value of the wrong JSON type): in an
    sObject Collections call it fails the whole request, not one record."""


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def request_limit_exceeded() -> SalesforceError:
    return SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def unavailable() -> SalesforceError:
    return SalesforceError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry.")


def rolled_back() -> SalesforceError:
    return SalesforceError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                           "Record rolled back because not all records were valid and the request "
                           "was using AllOrNone header")


class OAuthError(Exception):
    """Token endpoint failures: `{"error": ..., "error_description": ...}` with HTTP 400."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}
