"""Typed settings from environment variables and `.streamlit/secrets.toml`.

Environment variables win over the secrets file, so CI and the CLI can point any
command at another database with `DATABASE_URL=... python -m core ...`.
"""
from __future__ import annotations

import os
import secrets
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.adapters import files

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLOCKS_FILE = PROJECT_ROOT / "data" / "regulatory_clocks.toml"
DEFAULT_MODELS_DIR = PROJECT_ROOT / "data" / "models"
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "xxx", "todo", ""}


class SettingsError(ValueError):
    """A setting is missing, malformed or a placeholder."""


@dataclass(frozen=True)
class SalesforceFields:
    """API names of what Response Desk writes in the org; configurable per org."""

    status: str = "RD_Verification_Status__c"
    risk: str = "RD_Risk__c"
    score: str = "RD_Score__c"
    verified_at: str = "RD_Verified_At__c"
    sha256: str = "RD_SHA256__c"
    detector_versions: str = "RD_Detector_Versions__c"
    provenance_source: str = "RD_Provenance_Source__c"
    history_object: str = "RD_Media_Verification__c"
    history_external_id: str = "RD_External_Id__c"


@dataclass(frozen=True)
class SalesforceSettings:
    login_url: str
    auth: str  # jwt | password | client_credentials
    client_id: str
    api_version: str = "62.0"
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    private_key_file: str | None = None
    jwt_audience: str | None = None
    ca_bundle: str | None = None  # a private CA (the local emulator); None = system trust store
    timeout_s: float = 30.0
    fields: SalesforceFields = SalesforceFields()
    # The Pub/Sub API's gRPC endpoint (host:port). Salesforce's global one serves every org; the
    # Pub/Sub API Developer Guide lists regional ones.
    pubsub_address: str = "api.pubsub.salesforce.com:7443"

    def __post_init__(self):
        if self.auth not in ("jwt", "password", "client_credentials"):
            raise SettingsError(f"salesforce auth must be jwt, password or client_credentials, not {self.auth!r}")
        needed = {"jwt": ("username", "private_key_file"), "password": ("username", "password"),
                  "client_credentials": ("client_secret",)}[self.auth]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise SettingsError(f"salesforce auth {self.auth} needs: {', '.join(missing)}")


@dataclass(frozen=True)
class SmtpSettings:
    """Outgoing mail. STARTTLS with certificate verification unless explicitly off, and then only
    towards a relay on this host with no credentials (a local MTA)."""

    host: str
    from_address: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    ca_file: str | None = None  # a private CA (tests, an internal relay); None = system trust store
    timeout_s: float = 30.0

    def __post_init__(self):
        if "@" not in self.from_address or any(c in self.from_address for c in "\r\n,;<> "):
            raise SettingsError(f"smtp from address is not a single email address: {self.from_address!r}")
        if not 0 < int(self.port) < 65536:
            raise SettingsError(f"smtp port out of range: {self.port}")
        if bool(self.username) != bool(self.password):
            raise SettingsError("smtp needs both a username and a password, or neither")
        if self.password is not None and self.password.strip().lower() in PLACEHOLDER_SECRETS:
            raise SettingsError("smtp password is a placeholder")
        if not self.starttls and (self.username or self.host not in ("localhost", "127.0.0.1", "::1")):
            raise SettingsError("smtp without STARTTLS is allowed only to a local relay and without credentials")


@dataclass(frozen=True)
class IngestSettings:
    """How the worker learns of new files. With `events` on it subscribes to RD_File_Uploaded__e through
    the Pub/Sub API and verifies each new file as its event arrives; the poll stays as the
    reconciliation pass that catches anything an event missed. The poll runs every `poll_fast_s`,
    doubling up to `poll_idle_max_s` while it finds nothing new and events flow, and returns to
    `poll_fast_s` after a find or while the subscription is down. A dropped subscription reconnects
    after a jittered delay that doubles up to `reconnect_max_s`."""

    events: bool = True
    poll_fast_s: float = 5.0
    poll_idle_max_s: float = 600.0
    reconnect_max_s: float = 300.0
    event_batch: int = 100  # num_requested: events the subscription asks for at a time

    def __post_init__(self):
        if not 0 < self.poll_fast_s <= self.poll_idle_max_s:
            raise SettingsError("ingest poll_fast_s must be positive and at most poll_idle_max_s")
        if self.reconnect_max_s <= 0 or not 0 < self.event_batch <= 1000:
            raise SettingsError("ingest reconnect_max_s must be positive and event_batch between 1 and 1000")


@dataclass(frozen=True)
class PreemptiveSettings:
    """Fail closed under pressure: while the oldest unverified file is older than the backlog limit
    (an admin's threshold, core.domain.thresholds), or
    less than `api_floor` of the org's API budget is left, new files on high-risk records are held
    (their links cut) until verified, and restored automatically if they come out clean."""

    enabled: bool = False
    api_floor: float = 0.10
    objects: tuple[str, ...] = ("KYC_Check__c",)


@dataclass(frozen=True)
class AccessSettings:
    """Who signs in, how, and for how long.

    With an `[auth]` section in the secrets file Streamlit's OIDC sign-in (`st.login`) is on. The
    role comes from the identity token's `role_claim` (a string or a list, such as groups), mapped
    through `role_map` (claim value -> role); the first entry of the map that matches wins, so list
    the narrower roles first. An identity no entry maps cannot sign in. Local password accounts stay
    available beside single sign-on only when `local_accounts` says so (a break-glass admin)."""

    sso: bool = False
    sso_provider: str | None = None
    sso_label: str = "single sign-on"
    role_claim: str = "groups"
    role_map: tuple[tuple[str, str], ...] = ()
    local_accounts: bool = True
    idle_minutes: float = 30.0
    max_session_hours: float = 12.0

    def role_for(self, claims: dict) -> str | None:
        """The role the identity provider's claims map to, or None."""
        value = claims.get(self.role_claim)
        held = {str(v) for v in value} if isinstance(value, (list, tuple, set)) else (
            {str(value)} if value not in (None, "") else set())
        return next((role for claim_value, role in self.role_map if claim_value in held), None)


LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(address: str) -> bool:
    return address in LOOPBACK_ADDRESSES or address.startswith("127.")


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    audit_key: bytes
    demo_mode: bool
    # Where the dashboard, the verification API and the worker's metrics listen. Loopback unless an
    # operator opens them on purpose (behind a TLS proxy, say).
    bind_address: str = "127.0.0.1"
    # The firm's own mail domains: a message only to these (and to internal directory contacts) stays
    # inside the firm; any other recipient makes it external, and it needs approval.
    internal_domains: tuple[str, ...] = ()
    clocks_file: Path = DEFAULT_CLOCKS_FILE  # the regulatory clock rules
    models_dir: Path = DEFAULT_MODELS_DIR    # detection models, each with its card
    review_sla_hours: float = 4.0
    salesforce: SalesforceSettings | None = None
    ingest: IngestSettings = IngestSettings()
    preemptive: PreemptiveSettings = PreemptiveSettings()
    smtp: SmtpSettings | None = None
    access: AccessSettings = AccessSettings()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def __post_init__(self):
        # Demo mode signs anyone in as any role without a password: only on this machine, and never
        # beside a real sign-in.
        if self.demo_mode and self.access.sso:
            raise SettingsError("demo mode (RD_DEMO) cannot run with single sign-on ([auth]) configured: demo "
                                "mode lets anyone sign in as any role without a password")
        if self.demo_mode and not is_loopback(self.bind_address):
            raise SettingsError(f"demo mode (RD_DEMO) listens only on this machine, not on {self.bind_address}: "
                                "demo mode lets anyone sign in as any role without a password")


def _secrets_file() -> dict:
    path = Path(os.environ.get("RD_SECRETS_FILE", PROJECT_ROOT / ".streamlit" / "secrets.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _lookup(file_values: dict, env: str, section: str, key: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    value = file_values.get(section, {}).get(key)
    return None if value is None else str(value)


AUDIT_KEY_FILE = "audit.key"
AUDIT_KEY_HEX_DIGITS = 64  # 32 random bytes


def prepare_var_dir(var_dir: Path) -> Path:
    """var/ holds the database, the audit key, stored media and evidence packs: the owner's alone.
    Created 0700; one an older installation left open to others is narrowed, with a warning."""
    return files.narrow(files.private_dir(var_dir), files.PRIVATE_DIR)


def _read_key_file(key_file: Path) -> bytes:
    files.narrow(key_file, files.PRIVATE_FILE)
    text = key_file.read_text(encoding="ascii", errors="replace").strip()
    if len(text) < AUDIT_KEY_HEX_DIGITS or any(c not in string.hexdigits for c in text):
        raise SettingsError(
            f"{key_file} holds {len(text)} characters, not an audit key of at least {AUDIT_KEY_HEX_DIGITS} hex "
            "digits: it is empty, truncated or damaged. Restore it from a backup (a new key would not match "
            "the seals of the events already recorded), or set RD_AUDIT_KEY to the installation's key.")
    return text.encode()


def _audit_key(raw: str | None, var_dir: Path) -> bytes:
    """The key that seals the audit chain. Kept outside the database on purpose:
    someone who can write the database but not read this key cannot forge events.
    Generated once, at the first start; a key file that exists is never replaced, since a new key
    would break the seal of the chain already written."""
    if raw is not None:
        if raw.strip().lower() in PLACEHOLDER_SECRETS or len(raw) < 16:
            raise SettingsError("audit key is a placeholder or shorter than 16 characters")
        return raw.encode()
    key_file = var_dir / AUDIT_KEY_FILE
    if not key_file.exists():
        # Two processes starting at once both get here; the file one of them publishes wins.
        files.create_private_once(key_file, secrets.token_hex(AUDIT_KEY_HEX_DIGITS // 2).encode())
    return _read_key_file(key_file)


SALESFORCE_KEYS = {  # setting -> environment variable
    "login_url": "SF_LOGIN_URL", "auth": "SF_AUTH", "client_id": "SF_CLIENT_ID",
    "client_secret": "SF_CLIENT_SECRET", "username": "SF_USERNAME", "password": "SF_PASSWORD",
    "security_token": "SF_SECURITY_TOKEN", "private_key_file": "SF_PRIVATE_KEY_FILE",
    "jwt_audience": "SF_JWT_AUDIENCE", "api_version": "SF_API_VERSION", "ca_bundle": "SF_CA_BUNDLE",
    "pubsub_address": "SF_PUBSUB_ADDRESS",
}


def _salesforce(values: dict) -> SalesforceSettings | None:
    raw = {name: _lookup(values, env, "salesforce", name) for name, env in SALESFORCE_KEYS.items()}
    if not raw["login_url"]:
        return None
    fields = SalesforceFields(**values.get("salesforce", {}).get("fields", {}))
    return SalesforceSettings(**{k: v for k, v in raw.items() if v is not None}, fields=fields)


def _truthy(raw: str | None, default: bool) -> bool:
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


INGEST_KEYS = {  # setting -> environment variable; all in the secrets file's [ingest] section
    "poll_fast_s": "RD_POLL_FAST_S", "poll_idle_max_s": "RD_POLL_IDLE_MAX_S",
    "reconnect_max_s": "RD_EVENTS_RECONNECT_MAX_S", "event_batch": "RD_EVENT_BATCH",
}


def _ingest(values: dict) -> IngestSettings:
    typed: dict = {name: float(raw) for name, env in INGEST_KEYS.items()
                   if (raw := _lookup(values, env, "ingest", name)) is not None}
    if "event_batch" in typed:
        typed["event_batch"] = int(typed["event_batch"])
    return IngestSettings(events=_truthy(_lookup(values, "RD_INGEST_EVENTS", "ingest", "events"), True), **typed)


SMTP_KEYS = {  # setting -> environment variable
    "host": "RD_SMTP_HOST", "port": "RD_SMTP_PORT", "username": "RD_SMTP_USERNAME",
    "password": "RD_SMTP_PASSWORD", "from_address": "RD_SMTP_FROM", "starttls": "RD_SMTP_STARTTLS",
    "ca_file": "RD_SMTP_CA_FILE",
}


def _smtp(values: dict) -> SmtpSettings | None:
    raw = {name: _lookup(values, env, "smtp", name) for name, env in SMTP_KEYS.items()}
    if not raw["host"]:
        return None
    if not raw["from_address"]:
        raise SettingsError("smtp host is set but RD_SMTP_FROM ([smtp] from_address) is not")
    typed: dict = {k: v for k, v in raw.items() if v is not None}
    if "port" in typed:
        typed["port"] = int(typed["port"])
    if "starttls" in typed:
        typed["starttls"] = _truthy(typed["starttls"], True)
    return SmtpSettings(**typed)


def _access(values: dict) -> AccessSettings:
    from core.domain.roles import HUMAN_ROLES

    auth, section = values.get("auth") or {}, values.get("access") or {}
    sso = bool(auth)
    providers = [name for name, v in auth.items() if isinstance(v, dict) and name != "default"]
    if sso and len(providers) > 1:
        raise SettingsError(f"[auth] names {len(providers)} providers ({', '.join(providers)}); Response Desk "
                            "signs in through one")
    role_map = tuple((str(k), str(v)) for k, v in (section.get("role_map") or {}).items())
    unknown = sorted({role for _, role in role_map} - {r.value for r in HUMAN_ROLES})
    if unknown:
        raise SettingsError(f"[access.role_map] maps to unknown roles: {', '.join(unknown)} "
                            f"(roles: {', '.join(r.value for r in HUMAN_ROLES)})")
    if sso and not role_map:
        raise SettingsError("[auth] turns single sign-on on, but [access.role_map] maps no claim value to a "
                            "role, so nobody could sign in")
    idle = float(_lookup(values, "RD_IDLE_MINUTES", "access", "idle_minutes") or 30)
    lifetime = float(_lookup(values, "RD_MAX_SESSION_HOURS", "access", "max_session_hours") or 12)
    if idle <= 0 or lifetime <= 0:
        raise SettingsError("idle_minutes and max_session_hours must be positive")
    return AccessSettings(
        sso=sso, sso_provider=providers[0] if providers else None,
        sso_label=str(section.get("sso_label") or (providers[0].title() if providers else "single sign-on")),
        role_claim=str(section.get("role_claim") or "groups"), role_map=role_map,
        local_accounts=_truthy(_lookup(values, "RD_LOCAL_ACCOUNTS", "access", "local_accounts"), not sso),
        idle_minutes=idle, max_session_hours=lifetime)


def load_settings() -> Settings:
    values = _secrets_file()
    var_dir = prepare_var_dir(Path(os.environ.get("RD_VAR_DIR", PROJECT_ROOT / "var")))
    database_url = _lookup(values, "DATABASE_URL", "database", "url") or (
        f"sqlite:///{var_dir / 'responsedesk.db'}"
    )
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    salesforce = _salesforce(values)
    listed = values.get("messages", {}).get("internal_domains") or ""
    domains = os.environ.get("RD_INTERNAL_DOMAINS") or (",".join(listed) if isinstance(listed, list) else str(listed))
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        audit_key=_audit_key(_lookup(values, "RD_AUDIT_KEY", "audit", "key"), var_dir),
        # Only when asked for: `make run` asks for it when no org is configured.
        demo_mode=_truthy(_lookup(values, "RD_DEMO", "app", "demo"), default=False),
        bind_address=(_lookup(values, "RD_BIND_ADDRESS", "app", "bind_address") or "127.0.0.1").strip(),
        internal_domains=tuple(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()),
        clocks_file=Path(_lookup(values, "RD_CLOCKS_FILE", "app", "clocks_file") or DEFAULT_CLOCKS_FILE),
        models_dir=Path(_lookup(values, "RD_MODELS_DIR", "app", "models_dir") or DEFAULT_MODELS_DIR),
        review_sla_hours=float(_lookup(values, "RD_REVIEW_SLA_HOURS", "review", "sla_hours") or 4.0),
        salesforce=salesforce,
        ingest=_ingest(values),
        smtp=_smtp(values),
        access=_access(values),
        preemptive=PreemptiveSettings(
            enabled=_truthy(_lookup(values, "RD_PREEMPTIVE", "preemptive", "enabled"), False),
            api_floor=float(_lookup(values, "RD_PREEMPTIVE_API_FLOOR", "preemptive", "api_floor") or 0.10),
            objects=tuple((_lookup(values, "RD_PREEMPTIVE_OBJECTS", "preemptive", "objects") or "KYC_Check__c")
                          .replace(" ", "").split(","))),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
