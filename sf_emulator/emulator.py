"""The emulator's parts in one object: the org, query cursors, request log, faults and where it listens."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from .faults import FaultInjector
from .org import Org
from .requestlog import RequestLog
from .results import QueryCursors

if TYPE_CHECKING:
    from .pubsub import PubSubServer


@dataclass
class Emulator:
    org: Org
    base_url: str = ""
    ca_path: Path | None = None
    jwt_private_key_path: Path | None = None
    request_log: RequestLog = field(default_factory=RequestLog)
    faults: FaultInjector = field(default_factory=FaultInjector)
    cursors: QueryCursors = field(default_factory=QueryCursors)
    pubsub: PubSubServer | None = None  # the Pub/Sub API (gRPC, TLS with the same CA) at pubsub_address
    pubsub_address: str = ""

    def http_session(self) -> requests.Session:
        """A requests session that trusts the emulator's CA. `trust_env` is off because requests lets
        REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override `Session.verify` (a known requests quirk)."""
        session = requests.Session()
        session.verify = str(self.ca_path)
        session.trust_env = False
        return session

    def expire_sessions(self) -> int:
        """Expire every session now; the next API call gets 401 INVALID_SESSION_ID."""
        return self.org.sessions.expire_all()

    def upload_file(self, *, username: str, record_id: str | None, path_on_client: str, data: bytes,
                    title: str | None = None, when: datetime | None = None) -> str:
        """Attach a file as a user would in the UI (at `when`, default now); returns the ContentVersion id."""
        user = self.org.user_by_username(username)
        if user is None:
            raise KeyError(f"no user {username!r}")
        return self.org.upload_file(user_id=user["Id"], record_id=record_id, path_on_client=path_on_client,
                                    data=data, title=title, when=when)
