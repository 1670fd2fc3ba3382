"""The standard `emailSimple` invocable action; each delivered email is kept in the org for tests."""
from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import format_datetime
from .errors import SalesforceError
from .web import emulator, in_org, json_body, session_user, sf_json

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_SENDER_TYPES = {"CurrentUser", "DefaultWorkflowUser", "OrgWideEmailAddress"}
MAX_RECIPIENTS = 5


async def email_simple(request: Request) -> Response:
    body = await json_body(request)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Invocable action requests need a non-empty inputs list")
    results = in_org(request, lambda: [_send(request, item) for item in inputs])
    status = 200 if all(r["isSuccess"] for r in results) else 400
    return sf_json(results, status)


def _send(request: Request, item: dict) -> dict:
    try:
        email = _email(item)
    except SalesforceError as error:
        return {"actionName": "emailSimple", "errors": [error.record_error()], "isSuccess": False,
                "outputValues": None}
    org = emulator(request).org
    org.record_email({**email, "sentByUserId": session_user(request), "sentAt": format_datetime(org.now())})
    return {"actionName": "emailSimple", "errors": None, "isSuccess": True, "outputValues": None}


def _email(item: dict) -> dict:
    if not isinstance(item, dict):
        raise SalesforceError(400, "INVALID_INPUT", "Each input must be an object")
    for required in ("emailSubject", "emailBody"):
        if not item.get(required) and not item.get("emailTemplateId"):
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Missing required input parameter: {required}")
    recipients = [a.strip() for a in (item.get("emailAddresses") or "").split(",") if a.strip()]
    recipients += list(item.get("emailAddressesArray") or [])
    if not recipients and not item.get("recipientId"):
        raise SalesforceError(400, "REQUIRED_FIELD_MISSING", "Missing required input parameter: emailAddresses")
    if len(recipients) > MAX_RECIPIENTS:
        raise SalesforceError(400, "LIMIT_EXCEEDED", f"Too many recipients: at most {MAX_RECIPIENTS}")
    bad = [a for a in recipients if not _EMAIL.match(a)]
    if bad:
        raise SalesforceError(400, "INVALID_EMAIL_ADDRESS", f"Email address is invalid: {bad[0]}")
    sender_type = item.get("senderType") or "CurrentUser"
    if sender_type not in _SENDER_TYPES:
        raise SalesforceError(400, "INVALID_INPUT", f"Invalid senderType: {sender_type}")
    return {"to": recipients, "recipientId": item.get("recipientId"), "subject": item.get("emailSubject"),
            "body": item.get("emailBody"), "senderType": sender_type, "senderAddress": item.get("senderAddress"),
            "relatedRecordId": item.get("relatedRecordId"), "logEmailOnSend": bool(item.get("logEmailOnSend"))}


ROUTES = [Route("/services/data/v{version}/actions/standard/emailSimple", email_simple, methods=["POST"])]
