"""Roles and the permission table. Services consult it on every call, whatever the UI shows."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.domain.errors import PermissionDenied


class Role(StrEnum):
    RESPONDER = "responder"
    REVIEWER = "reviewer"
    COMPLIANCE_LEAD = "compliance_lead"
    ADMIN = "admin"
    AUDITOR = "auditor"
    # The worker, the verification API and the demo traffic act as the system.
    SYSTEM = "system"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


HUMAN_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)


class Action(StrEnum):
    ITEM_REGISTER = "item.register"
    ITEM_BEGIN_SCAN = "item.begin_scan"
    ITEM_RECORD_SCAN = "item.record_scan"
    ITEM_QUARANTINE = "item.quarantine"
    ITEM_START_REVIEW = "item.start_review"
    ITEM_RETURN_TO_QUEUE = "item.return_to_queue"
    ITEM_CONFIRM_SYNTHETIC = "item.confirm_synthetic"
    ITEM_REQUEST_RELEASE = "item.request_release"
    ITEM_APPROVE_RELEASE = "item.approve_release"
    ITEM_ASSIGN = "item.assign"
    ITEM_READ = "item.read"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    HASHBANK_MANAGE = "hashbank.manage"
    HASHBANK_EXPORT = "hashbank.export"
    SETTINGS_MANAGE = "settings.manage"
    USERS_MANAGE = "users.manage"
    CONTACTS_MANAGE = "contacts.manage"
    APIKEYS_MANAGE = "apikeys.manage"
    INCIDENT_DECLARE = "incident.declare"
    INCIDENT_UPDATE = "incident.update"  # status, roles, first recording of clock moments, items, notes
    INCIDENT_CORRECT_MOMENTS = "incident.correct_moments"  # change a recorded moment that starts a clock
    CLOCK_RECORD_SUBMISSION = "clock.record_submission"  # a notification made outside Response Desk
    INCIDENT_READ = "incident.read"
    EVIDENCE_EXPORT = "evidence.export"
    MESSAGE_DRAFT = "message.draft"
    MESSAGE_SEND_INTERNAL = "message.send_internal"
    MESSAGE_SEND_EXTERNAL = "message.send_external"  # regulators, customers, law enforcement
    MESSAGE_APPROVE_EXTERNAL = "message.approve_external"
    # The relays record what they did in Salesforce and by mail (links cut and restored, deliveries).
    EFFECT_RECORD = "effect.record"


R, A = Role, Action
_EVERY_HUMAN = frozenset(HUMAN_ROLES)
_DECIDERS = frozenset({R.REVIEWER, R.COMPLIANCE_LEAD})
_RESPONDERS = frozenset({R.RESPONDER, R.REVIEWER, R.COMPLIANCE_LEAD})  # auditors read, admins configure

PERMISSIONS: dict[Action, frozenset[Role]] = {
    A.ITEM_REGISTER: frozenset({R.SYSTEM, R.RESPONDER, R.REVIEWER, R.ADMIN}),
    A.ITEM_BEGIN_SCAN: frozenset({R.SYSTEM}),
    A.ITEM_RECORD_SCAN: frozenset({R.SYSTEM}),
    A.ITEM_QUARANTINE: frozenset({R.SYSTEM, R.RESPONDER, R.REVIEWER, R.COMPLIANCE_LEAD}),
    A.ITEM_START_REVIEW: _DECIDERS,
    A.ITEM_RETURN_TO_QUEUE: _DECIDERS,
    A.ITEM_CONFIRM_SYNTHETIC: _DECIDERS,
    A.ITEM_REQUEST_RELEASE: _DECIDERS,
    A.ITEM_APPROVE_RELEASE: _DECIDERS,
    # Leads hand work to reviewers; a reviewer claims work with start_review instead.
    A.ITEM_ASSIGN: frozenset({R.COMPLIANCE_LEAD, R.ADMIN}),
    A.ITEM_READ: _EVERY_HUMAN | {R.SYSTEM},
    A.AUDIT_READ: _EVERY_HUMAN,
    A.AUDIT_EXPORT: frozenset({R.COMPLIANCE_LEAD, R.ADMIN, R.AUDITOR}),
    A.AUDIT_VERIFY: frozenset({R.COMPLIANCE_LEAD, R.ADMIN, R.AUDITOR, R.SYSTEM}),
    A.HASHBANK_MANAGE: frozenset({R.COMPLIANCE_LEAD, R.ADMIN}),
    A.HASHBANK_EXPORT: frozenset({R.COMPLIANCE_LEAD, R.ADMIN, R.AUDITOR}),
    A.SETTINGS_MANAGE: frozenset({R.ADMIN}),
    A.USERS_MANAGE: frozenset({R.ADMIN}),
    A.CONTACTS_MANAGE: frozenset({R.COMPLIANCE_LEAD, R.ADMIN}),
    A.APIKEYS_MANAGE: frozenset({R.ADMIN, R.SYSTEM}),
    A.INCIDENT_DECLARE: _RESPONDERS,
    A.INCIDENT_UPDATE: _RESPONDERS,
    A.INCIDENT_READ: _EVERY_HUMAN | {R.SYSTEM},
    # Moving a moment moves a legal deadline: compliance decides, with a reason on the trail.
    A.INCIDENT_CORRECT_MOMENTS: frozenset({R.COMPLIANCE_LEAD}),
    A.CLOCK_RECORD_SUBMISSION: frozenset({R.COMPLIANCE_LEAD}),
    A.EVIDENCE_EXPORT: frozenset({R.RESPONDER, R.COMPLIANCE_LEAD, R.AUDITOR}),
    A.MESSAGE_DRAFT: _RESPONDERS,
    A.MESSAGE_SEND_INTERNAL: _RESPONDERS,
    # Reviewers judge media; what leaves the firm is for responders and compliance.
    A.MESSAGE_SEND_EXTERNAL: frozenset({R.RESPONDER, R.COMPLIANCE_LEAD}),
    A.MESSAGE_APPROVE_EXTERNAL: frozenset({R.COMPLIANCE_LEAD}),
    A.EFFECT_RECORD: frozenset({R.SYSTEM}),
}


PROCESS_PREFIXES = ("system:", "cli:")  # identities of our own processes, never of a person


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person (id = their email) or one of our processes (the worker, the API, the
    operator's console). Every service call takes one. For a person the role here is only what the
    caller believed: services read the current role and active flag from the account in their own
    transaction (UnitOfWork.authorize), so a stale session cannot act with an old role."""

    id: str
    role: Role

    @classmethod
    def system(cls, component: str = "worker") -> Actor:
        return cls(id=f"system:{component}", role=Role.SYSTEM)

    @classmethod
    def console(cls, os_user: str, role: Role) -> Actor:
        """Whoever holds a shell on the server, acting through `python -m core`."""
        return cls(id=f"cli:{os_user}", role=role)

    @property
    def is_person(self) -> bool:
        """People are known by email; an id with '@' is a person whatever prefix it carries."""
        return "@" in self.id or not self.id.startswith(PROCESS_PREFIXES)


def may(actor: Actor, action: Action) -> bool:
    return Role(actor.role) in PERMISSIONS[Action(action)]


def require(actor: Actor, action: Action) -> None:
    if not may(actor, action):
        raise PermissionDenied(f"{actor.id} ({actor.role}) may not {action}")
