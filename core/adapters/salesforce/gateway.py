"""The one object through which Response Desk talks to a Salesforce org.

It signs in with core.adapters.salesforce.auth, hands the session to simple-salesforce, signs in
again and retries once when the session has expired, and keeps the org's API usage from the
`Sforce-Limit-Info` header of the latest response."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from core.adapters.salesforce.auth import Token, fetch_token
from core.settings import SalesforceSettings

T = TypeVar("T")
COLLECTION_LIMIT = 200  # sObject Collections take at most 200 records a call
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


class FileTooLarge(Exception):
    """A download passed the size limit; nothing of it is kept."""


@dataclass(frozen=True)
class ApiUsage:
    used: int
    limit: int

    @property
    def remaining_share(self) -> float:
        return 1.0 - self.used / self.limit if self.limit else 1.0


def soql_id(value: str) -> str:
    """A record id as a SOQL literal; anything that is not an id is refused (no injection)."""
    if not _ID.match(value or ""):
        raise ValueError(f"not a Salesforce id: {value!r}")
    return f"'{value}'"


def soql_ids(values: Iterable[str]) -> str:
    return "(" + ",".join(soql_id(v) for v in values) + ")"


def soql_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_sf_datetime(text: str) -> datetime:
    """Salesforce writes 2026-11-29T10:00:00.000+0000."""
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z") if "." in text \
        else datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")


def is_transient(error: BaseException) -> bool:
    """Worth retrying later: network trouble, 5xx, the org's API limit."""
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(error, SalesforceRefusedRequest):
        return "REQUEST_LIMIT_EXCEEDED" in str(error.content)
    if isinstance(error, SalesforceGeneralError):
        return error.status >= 500
    return False


def chunks(items: list[T], size: int = COLLECTION_LIMIT) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SalesforceGateway:
    def __init__(self, cfg: SalesforceSettings, http: requests.Session | None = None):
        self.cfg = cfg
        self.http = http or requests.Session()
        if cfg.ca_bundle:
            # A private CA (the local emulator, a TLS-inspecting proxy): REQUESTS_CA_BUNDLE in the
            # environment would otherwise override Session.verify on every request.
            self.http.verify = cfg.ca_bundle
            self.http.trust_env = False
        self._sf: Salesforce | None = None
        self._token: Token | None = None
        self.usage: ApiUsage | None = None
        self.sign_ins = 0

    # -- session -----------------------------------------------------------------------------
    def _client(self) -> Salesforce:
        if self._sf is None:
            token = self._token = fetch_token(self.cfg, self.http)
            self.sign_ins += 1
            self._sf = Salesforce(instance_url=token.instance_url, session_id=token.access_token,
                                  version=self.cfg.api_version, session=self.http)
        return self._sf

    def session(self, *, renew: bool = False) -> Token:
        """The signed-in session (signing in when there is none, or again when `renew`), for the Pub/Sub
        API, which takes the same access token as metadata."""
        if renew:
            self._sf = None
        self._client()
        return self._token  # set by the sign-in in _client()

    def _call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run one API call; an expired session signs in again and the call is retried once."""
        try:
            return self._record_usage(fn(self._client()))
        except SalesforceExpiredSession:
            self._sf = None
            return self._record_usage(fn(self._client()))

    def _record_usage(self, result: T) -> T:
        usage = (self._sf.api_usage or {}).get("api-usage") if self._sf else None
        if usage is not None:
            self.usage = ApiUsage(used=usage.used, limit=usage.total)
        return result

    @property
    def org_base(self) -> str:
        """The org's address, for links from the dashboard into records."""
        return f"https://{self._client().sf_instance}"

    # -- reads -------------------------------------------------------------------------------
    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        """All rows of a SOQL query, following nextRecordsUrl page by page."""
        page = self._call(lambda sf: sf.query(soql, timeout=self.cfg.timeout_s))
        while True:
            for record in page["records"]:
                record.pop("attributes", None)
                yield record
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True,
                                                                     timeout=self.cfg.timeout_s))

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object as the integration user sees it: the fields field-level security shows, and whether
        it may create and edit each."""
        return self._call(lambda sf: getattr(sf, sobject).describe())

    def download(self, version_id: str, dest: Path, max_bytes: int, chunk: int = 1 << 16) -> tuple[int, str]:
        """Stream a ContentVersion's bytes to `dest` with bounded memory. Returns (size, sha256)."""
        soql_id(version_id)

        def fetch(sf: Salesforce) -> tuple[int, str]:
            # The client's own request path: same session, headers, retry rules and usage header.
            response = sf._call_salesforce("GET", f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData",
                                           name="VersionData", stream=True, timeout=self.cfg.timeout_s)
            digest, size = hashlib.sha256(), 0
            try:
                with dest.open("wb") as fh:
                    for block in response.iter_content(chunk):
                        size += len(block)
                        if size > max_bytes:
                            raise FileTooLarge(f"file is larger than the {max_bytes:,}-byte limit")
                        digest.update(block)
                        fh.write(block)
            except BaseException:
                dest.unlink(missing_ok=True)
                raise
            finally:
                response.close()
            return size, digest.hexdigest()

        return self._call(fetch)

    # -- writes ------------------------------------------------------------------------------
    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return self._call(lambda sf: getattr(sf, sobject).create(fields))["id"]

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self._call(lambda sf: getattr(sf, sobject).update(record_id, fields))

    def delete(self, sobject: str, record_id: str) -> None:
        self._call(lambda sf: getattr(sf, sobject).delete(record_id))

    def collection(self, method: str, records: list[dict[str, Any]], *, path: str = "composite/sobjects",
                   all_or_none: bool = False) -> list[dict[str, Any]]:
        """sObject Collections, 200 records a call. Per-record results in input order."""
        results: list[dict[str, Any]] = []
        for batch in chunks(records):
            body = {"allOrNone": all_or_none, "records": batch}
            results.extend(self._call(lambda sf, body=body: sf.restful(path, method=method, json=body,
                                                                       timeout=self.cfg.timeout_s)))
        return results

    def upsert_collection(self, sobject: str, external_id_field: str,
                          records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        typed = [{"attributes": {"type": sobject}, **r} for r in records]
        return self.collection("PATCH", typed, path=f"composite/sobjects/{sobject}/{external_id_field}")

    def delete_collection(self, ids: list[str]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for batch in chunks(ids):
            params = {"ids": ",".join(soql_id(i).strip("'") for i in batch), "allOrNone": "false"}
            results.extend(self._call(lambda sf, params=params: sf.restful(
                "composite/sobjects", method="DELETE", params=params, timeout=self.cfg.timeout_s)))
        return results

    def email_simple(self, addresses: list[str], subject: str, body: str) -> dict[str, Any]:
        payload = {"inputs": [{"emailAddresses": ",".join(addresses), "emailSubject": subject,
                               "emailBody": body, "senderType": "CurrentUser"}]}
        result = self._call(lambda sf: sf.restful("actions/standard/emailSimple", method="POST",
                                                  json=payload, timeout=self.cfg.timeout_s))
        return result[0]

    def check(self) -> dict[str, Any]:
        """Connection test for Settings: sign in and read one row."""
        rows = list(self.query("SELECT Id FROM User LIMIT 1"))
        return {"instance": self.org_base, "users_visible": len(rows),
                "api_usage": None if self.usage is None else f"{self.usage.used}/{self.usage.limit}"}


__all__ = ["SalesforceGateway", "SalesforceError", "ApiUsage", "FileTooLarge", "is_transient",
           "soql_id", "soql_ids", "soql_datetime", "parse_sf_datetime", "chunks"]
