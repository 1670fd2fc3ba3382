"""One Salesforce org: its schema, records, users and their permissions, connected apps, sessions, API
usage and sent emails.

Everything here is safe to call from a test thread while the server runs: each public method holds
the store's lock. Records returned are the stored dicts; treat them as read-only. The record methods
act as the system (set-up, tests) unless given an `access`: the API passes its session user's.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from . import crud
from .access import Access
from .clock import format_datetime, utc_now
from .errors import request_limit_exceeded
from .eventbus import EventBus
from .ids import IdFactory, sequence_number
from .metadata import METADATA_DIR, Deployment, load
from .schema import Schema
from .security import Security
from .sessions import SessionRegistry
from .store import RecordStore


class Org:
    def __init__(self, store: RecordStore | None = None, *, api_limit: int = 15000, session_ttl: float = 7200,
                 clock: Callable[[], datetime] = utc_now, metadata: Path | None = METADATA_DIR):
        """`metadata`: the SFDX source folder deployed to the org (default: the project's salesforce/)."""
        self.store = store or RecordStore()
        self.schema = Schema()
        self.security = Security(self.store)
        self.clock = clock
        self.lock = self.store.lock
        self.ids = IdFactory()
        self.sessions = SessionRegistry(ttl_seconds=session_ttl)
        self.events = EventBus(self.store, clock)  # platform events, read by the Pub/Sub API
        self._effects: list[dict] | None = None
        if metadata is not None:
            self.deploy(load(metadata))
        if not self.store.is_empty:
            last = max(sequence_number(r) for r in self._all_ids())
            self.ids.skip_to(last + 1)
        if self.store.meta("api_limit") is None:
            self.store.set_meta("api_limit", api_limit)

    @property
    def org_id(self) -> str:
        return self.store.meta("org_id")

    def now(self) -> datetime:
        return self.clock()

    # records
    def get(self, record_id: str) -> dict | None:
        with self.lock:
            return self.store.get(record_id)

    def records(self, sobject: str, *, include_deleted: bool = False) -> list[dict]:
        with self.lock:
            return [r for r in self.store.of_type(sobject) if include_deleted or not r["IsDeleted"]]

    def create(self, sobject: str, values: dict, *, user_id: str | None = None, access: Access | None = None) -> str:
        with self.store.transaction():
            return crud.create_record(self, sobject, dict(values), access or self.system(user_id))

    def update(self, record_id: str, values: dict, *, user_id: str | None = None, access: Access | None = None) -> None:
        with self.store.transaction():
            crud.update_record(self, record_id, dict(values), access or self.system(user_id))

    def delete(self, record_id: str, *, user_id: str | None = None, access: Access | None = None) -> None:
        with self.store.transaction():
            crud.delete_record(self, record_id, access or self.system(user_id))

    def upsert(self, sobject: str, field: str, value: object, values: dict, *, user_id: str | None = None,
               access: Access | None = None) -> tuple[str, bool]:
        with self.store.transaction():
            return crud.upsert_record(self, sobject, field, value, dict(values), access or self.system(user_id))

    def upload_file(self, *, user_id: str, record_id: str | None, path_on_client: str, data: bytes,
                    title: str | None = None, when: datetime | None = None) -> str:
        """Simulate a user attaching a file to a record in the UI; returns the ContentVersion id."""
        from .content import create_version

        values = {"PathOnClient": path_on_client, "VersionData": base64.b64encode(data).decode(),
                  "Title": title, "FirstPublishLocationId": record_id}
        uploader = self.system(user_id)
        with self.store.transaction():
            values = crud.clean_values(self, self.schema.get("ContentVersion"), values, uploader, creating=True)
            return create_version(self, values, uploader, when=format_datetime(when) if when else None)

    # schema and permissions
    def deploy(self, deployment: Deployment) -> None:
        """Apply a metadata deployment: custom objects and fields, permission sets."""
        with self.lock:
            before = self.store.meta("key_prefixes", {})
            prefixes = self.schema.deploy(deployment, before)
            if prefixes != before:
                self.store.set_meta("key_prefixes", prefixes)
            self.security.deploy(deployment)

    def access(self, user_id: str) -> Access:
        """What this user may see and change (an API call's session user)."""
        return Access(self, user_id, self.security.grants(user_id))

    def system(self, user_id: str | None = None) -> Access:
        """The org's own set-up, acting as `user_id` (default: the integration user) with no checks."""
        return Access(self, user_id or self.integration_user_id, None)

    # users and connected apps
    def add_user(self, username: str, first_name: str, last_name: str, *, email: str | None = None,
                 title: str | None = None, password: str | None = None, security_token: str = "") -> str:
        with self.store.transaction():
            user_id = crud.create_record(self, "User", {
                "Username": username, "FirstName": first_name, "LastName": last_name,
                "Email": email or username, "Alias": (first_name[:1] + last_name)[:8].lower(), "Title": title,
            }, self.system(self.store.meta("integration_user_id") or "005000000000000AAA"))  # the first has no creator
            if password is not None:
                creds = dict(self.store.meta("credentials", {}))
                creds[username] = {"password": password, "security_token": security_token}
                self.store.set_meta("credentials", creds)
            return user_id

    def add_connected_app(self, consumer_key: str, consumer_secret: str, *, certificate_pem: str | None = None,
                          run_as_username: str | None = None, policy: str = "self_authorize",
                          profiles: tuple[str, ...] = (), permission_sets: tuple[str, ...] = ()) -> None:
        """Register a connected app; a certificate (or public key) enables the JWT bearer flow. `policy`:
        "self_authorize" (Salesforce's default, "All users may self-authorize") or "admin_approved"
        ("Admin approved users are pre-authorized", for the `profiles` and `permission_sets` assigned)."""
        if policy not in ("self_authorize", "admin_approved"):
            raise ValueError(f"unknown connected app policy {policy!r}")
        self.update_connected_app(consumer_key, consumer_secret=consumer_secret, certificate_pem=certificate_pem,
                                  run_as_username=run_as_username, policy=policy, profiles=list(profiles),
                                  permission_sets=list(permission_sets))

    def update_connected_app(self, consumer_key: str, **settings) -> None:
        with self.lock:
            apps = dict(self.store.meta("connected_apps", {}))
            apps[consumer_key] = {**apps.get(consumer_key, {}), **settings}
            self.store.set_meta("connected_apps", apps)

    def connected_app(self, consumer_key: str) -> dict | None:
        return self.store.meta("connected_apps", {}).get(consumer_key)

    def credentials(self, username: str) -> dict | None:
        return self.store.meta("credentials", {}).get(username)

    def user_by_username(self, username: str) -> dict | None:
        with self.lock:
            lowered = (username or "").lower()
            return next((u for u in self.records("User") if u["Username"].lower() == lowered), None)

    @property
    def integration_user_id(self) -> str:
        return self.store.meta("integration_user_id")

    # API usage, as the Sforce-Limit-Info header reports it
    @property
    def api_usage(self) -> tuple[int, int]:
        return self.store.meta("api_used", 0), self.store.meta("api_limit")

    def count_api_call(self) -> None:
        with self.lock:
            used, limit = self.api_usage
            if used >= limit:
                raise request_limit_exceeded()
            self.store.set_meta("api_used", used + 1)

    def set_api_usage(self, *, used: int | None = None, limit: int | None = None) -> None:
        with self.lock:
            if used is not None:
                self.store.set_meta("api_used", used)
            if limit is not None:
                self.store.set_meta("api_limit", limit)

    # emails sent through the emailSimple action
    @property
    def emails(self) -> list[dict]:
        return list(self.store.meta("emails", []))

    def record_email(self, email: dict) -> None:
        with self.lock:
            self.store.set_meta("emails", self.emails + [email])

    # bookkeeping
    def next_number(self, name: str) -> int:
        value = self.store.meta(f"counter_{name}", 1000) + 1
        self.store.set_meta(f"counter_{name}", value)
        return value

    def record_effect(self, op: str, sobject: str, record_id: str) -> None:
        if self._effects is not None:
            self._effects.append({"op": op, "type": sobject, "id": record_id})

    @contextmanager
    def capturing_effects(self) -> Iterator[list[dict]]:
        """Collect the writes one request makes, for the request log."""
        with self.lock:
            self._effects = effects = []
            try:
                yield effects
            finally:
                self._effects = None

    def _all_ids(self) -> Iterator[str]:
        for obj_name in self.schema.names():
            for record in self.store.of_type(obj_name):
                yield record["Id"]
