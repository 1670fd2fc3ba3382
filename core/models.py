"""Database tables (SQLModel). Enum-like fields are stored as plain strings so SQLite and
PostgreSQL hold the same text and migrations stay simple."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def when(*, index: bool = False, nullable: bool = True, default_now: bool = False) -> Any:
    column = Column(UTCDateTime(), index=index, nullable=nullable)
    if default_now:
        return Field(default_factory=utcnow, sa_column=column)
    return Field(default=None, sa_column=column)


def json_field(default_factory=dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=320)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    password_hash: Optional[str] = Field(default=None, max_length=256)
    active: bool = True
    failed_logins: int = 0
    locked_until: Optional[datetime] = when()
    created_at: datetime = when(default_now=True, nullable=False)
    last_login_at: Optional[datetime] = when()


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins per client (browser address, or session): a pause after too many."""

    __tablename__ = "sign_in_throttle"
    client: str = Field(primary_key=True, max_length=128)
    failures: int = 0
    window_started_at: datetime = when(nullable=False, default_now=True)
    blocked_until: Optional[datetime] = when()


class UserSession(SQLModel, table=True):
    """A local-account session, held on the server so that it outlives a browser tab and ends
    everywhere at once. The browser's cookie carries a random token; only its SHA-256 is stored. A
    fresh session first hands the browser a one-time handoff (its SHA-256 stored too, for a minute)
    that the browser trades for the cookie."""

    __tablename__ = "user_session"
    id: str = Field(primary_key=True, max_length=32)  # random; held by the tabs' session state, never sent out
    email: str = Field(index=True, max_length=320)
    method: str = Field(max_length=16)  # password | demo
    token_digest: Optional[str] = Field(default=None, unique=True, max_length=64)
    handoff_digest: Optional[str] = Field(default=None, unique=True, max_length=64)
    handoff_expires_at: Optional[datetime] = when()
    started_at: datetime = when(nullable=False, default_now=True)
    last_seen_at: datetime = when(nullable=False, default_now=True)
    expires_at: datetime = when(nullable=False)  # started_at + the lifetime in force at sign-in
    revoked_at: Optional[datetime] = when()
    end_reason: Optional[str] = Field(default=None, max_length=40)


class MediaItem(SQLModel, table=True):
    __tablename__ = "media_item"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_media_item_source_external"),
        Index("ix_media_item_state_received", "state", "received_at"),
        Index("ix_media_item_risk_received", "risk", "received_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)  # salesforce | api | upload | demo
    external_id: str = Field(max_length=64)  # ContentVersion id, or an upload id
    org_id: Optional[str] = Field(default=None, max_length=32)
    content_document_id: Optional[str] = Field(default=None, max_length=32)
    source_object: Optional[str] = Field(default=None, index=True, max_length=80)
    file_name: str = Field(max_length=512)
    declared_type: Optional[str] = Field(default=None, max_length=128)
    size_bytes: Optional[int] = None
    sha256: Optional[str] = Field(default=None, index=True, max_length=64)
    storage_path: Optional[str] = Field(default=None, max_length=1024)
    uploaded_by: Optional[str] = Field(default=None, max_length=200)
    uploaded_at: Optional[datetime] = when()
    linked_records: list = json_field(list)
    provenance: dict = json_field(dict)
    state: str = Field(default="received", index=True, max_length=32)
    risk: Optional[str] = Field(default=None, max_length=16)
    unscannable_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    received_at: datetime = when(index=True, nullable=False, default_now=True)
    scanned_at: Optional[datetime] = when(index=True)
    decided_at: Optional[datetime] = when()
    assignee: Optional[str] = Field(default=None, index=True, max_length=320)
    lease_owner: Optional[str] = Field(default=None, max_length=128)
    lease_expires_at: Optional[datetime] = when()
    scan_attempts: int = 0
    updated_at: datetime = when(nullable=False, default_now=True)


class Signal(SQLModel, table=True):
    __table_args__ = (Index("ix_signal_name_created", "name", "created_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="media_item.id", index=True)
    verdict_id: Optional[int] = Field(default=None, foreign_key="verdict.id", index=True)
    name: str = Field(max_length=80)
    version: str = Field(max_length=64)
    score: Optional[float] = None
    label: str = Field(max_length=64)
    evidence: dict = json_field(dict)
    explanation_path: Optional[str] = Field(default=None, max_length=1024)
    created_at: datetime = when(nullable=False, default_now=True)


class Verdict(SQLModel, table=True):
    __table_args__ = (Index("ix_verdict_created_risk", "created_at", "risk"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="media_item.id", index=True)
    risk: str = Field(max_length=16)
    reasons: list = json_field(list)
    unscannable_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    detector_versions: dict = json_field(dict)
    created_at: datetime = when(nullable=False, default_now=True)


class Quarantine(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="media_item.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="active", index=True, max_length=16)  # active | restored
    preemptive: bool = False
    removed_links: list = json_field(list)
    sharing_before: dict = json_field(dict)
    started_by: str = Field(max_length=320)
    started_at: datetime = when(nullable=False, default_now=True)
    ended_at: Optional[datetime] = when()
    restore_verified: Optional[bool] = None


class Decision(SQLModel, table=True):
    __table_args__ = (Index("ix_decision_kind_decided", "kind", "decided_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="media_item.id", index=True)
    kind: str = Field(max_length=32)  # confirm_synthetic | release
    status: str = Field(default="final", index=True, max_length=24)  # final | pending_approval | approved
    reason_code: str = Field(max_length=64)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=320)
    decided_at: datetime = when(nullable=False, default_now=True)
    approved_by: Optional[str] = Field(default=None, max_length=320)
    approved_at: Optional[datetime] = when()


class Incident(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    severity: str = Field(max_length=8)  # SEV1 | SEV2 | SEV3
    status: str = Field(default="investigating", index=True, max_length=24)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    commander: Optional[str] = Field(default=None, max_length=320)
    communications_lead: Optional[str] = Field(default=None, max_length=320)
    compliance_lead: Optional[str] = Field(default=None, max_length=320)
    declared_by: str = Field(max_length=320)
    declared_at: datetime = when(index=True, nullable=False, default_now=True)
    # The moments that start regulatory clocks: recorded once; only a compliance lead corrects them.
    aware_at: Optional[datetime] = when()
    classified_at: Optional[datetime] = when()  # classified as major (DORA)
    determined_at: Optional[datetime] = when()  # determined to be a cybersecurity incident (NYDFS)
    resolved_at: Optional[datetime] = when()
    closed_at: Optional[datetime] = when()


class IncidentItem(SQLModel, table=True):
    __tablename__ = "incident_item"
    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    item_id: int = Field(foreign_key="media_item.id", primary_key=True, index=True)
    linked_at: datetime = when(nullable=False, default_now=True)


class Contact(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    role: str = Field(index=True, max_length=40)  # dpo | regulator | compliance_oncall | ...
    organisation: str = Field(default="", max_length=200)
    active: bool = True


class Communication(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: Optional[int] = Field(default=None, foreign_key="incident.id", index=True)
    template: str = Field(max_length=80)
    audience: str = Field(max_length=40)
    subject: str = Field(max_length=500)
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_html: str = Field(default="", sa_column=Column(Text, nullable=False))
    prefilled_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    recipients: list = json_field(list)
    status: str = Field(default="draft", index=True, max_length=24)
    author: str = Field(max_length=320)
    approved_by: Optional[str] = Field(default=None, max_length=320)
    approved_at: Optional[datetime] = when()
    sent_at: Optional[datetime] = when()
    idempotency_key: str = Field(unique=True, max_length=80)
    created_at: datetime = when(nullable=False, default_now=True)
    channel: str = Field(default="email", max_length=16)  # email (SMTP) | salesforce (emailSimple)
    clock_rule: Optional[str] = Field(default=None, max_length=64)  # the regulatory clock it satisfies
    sent_by: Optional[str] = Field(default=None, max_length=320)


class ClockSubmission(SQLModel, table=True):
    """A notification made outside Response Desk (a regulator's portal, a phone call with a case
    number) that satisfies a clock rule, recorded by a compliance lead."""

    __tablename__ = "clock_submission"
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    clock_rule: str = Field(max_length=64)
    submitted_at: datetime = when(nullable=False)
    channel: str = Field(max_length=200)
    reference: str = Field(max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    recorded_by: str = Field(max_length=320)
    recorded_at: datetime = when(nullable=False, default_now=True)


class Delivery(SQLModel, table=True):
    """One recipient of one message: the delivery log."""

    id: Optional[int] = Field(default=None, primary_key=True)
    communication_id: int = Field(foreign_key="communication.id", index=True)
    recipient: str = Field(max_length=320)
    channel: str = Field(max_length=16)
    status: str = Field(default="pending", max_length=16)  # pending | delivered | failed
    attempts: int = 0
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    message_id: Optional[str] = Field(default=None, max_length=200)
    delivered_at: Optional[datetime] = when()


class IncidentNote(SQLModel, table=True):
    __tablename__ = "incident_note"
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    author: str = Field(max_length=320)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = when(nullable=False, default_now=True)


class AppSetting(SQLModel, table=True):
    """Settings an admin changes in the dashboard (thresholds, enabled detectors...), audited."""

    __tablename__ = "app_setting"
    key: str = Field(primary_key=True, max_length=120)
    value: dict = json_field(dict)
    updated_by: str = Field(max_length=320)
    updated_at: datetime = when(nullable=False, default_now=True)


class HashBankEntry(SQLModel, table=True):
    __tablename__ = "hash_bank_entry"
    id: Optional[int] = Field(default=None, primary_key=True)
    bank: str = Field(index=True, max_length=24)  # known_synthetic | known_genuine
    sha256: Optional[str] = Field(default=None, index=True, max_length=64)
    phash: Optional[str] = Field(default=None, index=True, max_length=64)
    source: str = Field(max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    item_id: Optional[int] = Field(default=None, foreign_key="media_item.id")
    added_by: str = Field(max_length=320)
    added_at: datetime = when(nullable=False, default_now=True)


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox_entry"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=48)
    payload: dict = json_field(dict)
    idempotency_key: str = Field(unique=True, max_length=128)
    status: str = Field(default="pending", max_length=16)  # pending | done | dead
    attempts: int = 0
    next_attempt_at: datetime = when(nullable=False, default_now=True)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    item_id: Optional[int] = Field(default=None, foreign_key="media_item.id", index=True)
    lease_owner: Optional[str] = Field(default=None, max_length=128)
    lease_expires_at: Optional[datetime] = when()
    created_at: datetime = when(nullable=False, default_now=True)
    done_at: Optional[datetime] = when()


class AuditEvent(SQLModel, table=True):
    """Append-only: the database refuses UPDATE and DELETE (see the migration's triggers)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    seal: str = Field(max_length=64)
    occurred_at: datetime = when(index=True, nullable=False)
    actor: str = Field(index=True, max_length=320)
    action: str = Field(index=True, max_length=64)
    object_type: str = Field(max_length=48)
    object_id: str = Field(max_length=64)
    before: Optional[str] = Field(default=None, sa_column=Column(Text))
    after: Optional[str] = Field(default=None, sa_column=Column(Text))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    outcome: str = Field(default="success", max_length=24)
    correlation_id: str = Field(index=True, max_length=64)


class AuditAnchor(SQLModel, table=True):
    """One row: the sealed head of the chain. Its row lock serialises appends on PostgreSQL."""

    __tablename__ = "audit_anchor"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    head_hash: str = Field(max_length=64)
    seal: Optional[str] = Field(default=None, max_length=64)


class IngestState(SQLModel, table=True):
    """Where a poll of a source stopped: the newest (SystemModstamp, Id) seen."""

    __tablename__ = "ingest_state"
    source: str = Field(primary_key=True, max_length=64)
    watermark_at: Optional[datetime] = when()
    watermark_id: Optional[str] = Field(default=None, max_length=32)
    last_success_at: Optional[datetime] = when()
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = when(nullable=False, default_now=True)


class ServiceStatus(SQLModel, table=True):
    """Health facts the worker publishes for the Live page and /metrics (heartbeat, API usage...)."""

    __tablename__ = "service_status"
    name: str = Field(primary_key=True, max_length=64)
    data: dict = json_field(dict)
    updated_at: datetime = when(nullable=False, default_now=True)


class ApiKey(SQLModel, table=True):
    """A key for the verification API. Only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=12)  # the first characters, to recognise a key in logs and lists
    key_hash: str = Field(unique=True, max_length=64)
    rate_per_minute: int = 120
    created_by: str = Field(max_length=320)
    created_at: datetime = when(nullable=False, default_now=True)
    revoked_at: Optional[datetime] = when()
    last_used_at: Optional[datetime] = when()
