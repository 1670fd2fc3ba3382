"""Every action the audit trail records: one member each, with what it means. The unit of work
accepts no other name, and a test reads every call that writes the trail."""
from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    APIKEY_CREATED = "apikey.created"
    APIKEY_REVOKED = "apikey.revoked"
    AUDIT_EXPORTED = "audit.exported"
    AUTH_CLIENT_THROTTLED = "auth.client_throttled"
    AUTH_LOCKED_OUT = "auth.locked_out"
    AUTH_SIGN_IN_FAILED = "auth.sign_in_failed"
    AUTH_SIGNED_IN = "auth.signed_in"
    AUTH_SIGNED_OUT = "auth.signed_out"
    COMMUNICATION_APPROVAL_REQUESTED = "communication.approval_requested"
    COMMUNICATION_APPROVED = "communication.approved"
    COMMUNICATION_DELIVERED = "communication.delivered"
    COMMUNICATION_DELIVERY_FAILED = "communication.delivery_failed"
    COMMUNICATION_DRAFTED = "communication.drafted"
    COMMUNICATION_EDITED = "communication.edited"
    COMMUNICATION_FAILED = "communication.failed"
    COMMUNICATION_SEND_REQUESTED = "communication.send_requested"
    COMMUNICATION_SENT = "communication.sent"
    CONTACT_ADDED = "contact.added"
    CONTACT_DEACTIVATED = "contact.deactivated"
    CONTACT_UPDATED = "contact.updated"
    HASHBANK_ENTRY_ADDED = "hashbank.entry_added"
    HASHBANK_EXPORTED = "hashbank.exported"
    HASHBANK_IMPORTED = "hashbank.imported"
    INCIDENT_DECLARED = "incident.declared"
    INCIDENT_EVIDENCE_EXPORTED = "incident.evidence_exported"
    INCIDENT_ITEMS_LINKED = "incident.items_linked"
    INCIDENT_MOMENTS_CORRECTED = "incident.moments_corrected"
    INCIDENT_MOMENTS_RECORDED = "incident.moments_recorded"
    INCIDENT_NOTE_ADDED = "incident.note_added"
    INCIDENT_ROLES_ASSIGNED = "incident.roles_assigned"
    INCIDENT_SEVERITY_CHANGED = "incident.severity_changed"
    INCIDENT_STATUS_CHANGED = "incident.status_changed"
    INCIDENT_SUBMISSION_RECORDED = "incident.submission_recorded"
    ITEM_ASSIGNED = "item.assigned"
    ITEM_CONFIRMED_SYNTHETIC = "item.confirmed_synthetic"
    ITEM_PREEMPTIVE_HOLD = "item.preemptive_hold"
    ITEM_PREEMPTIVE_HOLD_RELEASED = "item.preemptive_hold_released"
    ITEM_QUARANTINED = "item.quarantined"
    ITEM_REGISTERED = "item.registered"
    ITEM_RELEASE_REQUESTED = "item.release_requested"
    ITEM_RELEASED = "item.released"
    ITEM_RETURNED_TO_QUEUE = "item.returned_to_queue"
    ITEM_REVIEW_STARTED = "item.review_started"
    ITEM_SCAN_LEASE_TAKEN_OVER = "item.scan_lease_taken_over"
    ITEM_SCAN_STARTED = "item.scan_started"
    ITEM_SCANNED = "item.scanned"
    OUTBOX_DEAD_LETTERED = "outbox.dead_lettered"
    OUTBOX_REQUEUED = "outbox.requeued"
    SALESFORCE_CASE_UPSERTED = "salesforce.case_upserted"
    SALESFORCE_LINKS_RECORDED = "salesforce.links_recorded"
    SALESFORCE_LINKS_RESTORED = "salesforce.links_restored"
    SALESFORCE_QUARANTINE_APPLIED = "salesforce.quarantine_applied"
    SALESFORCE_RESTORE_FAILED = "salesforce.restore_failed"
    SALESFORCE_VERIFICATION_WRITTEN = "salesforce.verification_written"
    SETTINGS_CHANGED = "settings.changed"
    USER_ACTIVATED = "user.activated"
    USER_CREATED = "user.created"
    USER_DEACTIVATED = "user.deactivated"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_UNLOCKED = "user.unlocked"

    @property
    def meaning(self) -> str:
        return MEANINGS[self]

    @property
    def label(self) -> str:
        """The action in words: 'item.review_started' reads 'Item review started', 'auth.signed_in' 'Signed in'."""
        subject, _, verb = self.value.partition(".")
        words = f"{SUBJECTS.get(subject, subject)} {verb.replace('_', ' ')}".strip()
        return words[:1].upper() + words[1:]


SUBJECTS = {"auth": "", "apikey": "API key", "audit": "Audit trail", "communication": "Message",
            "hashbank": "Hash bank", "salesforce": "Salesforce", "settings": "Settings", "user": "Account"}

A = AuditAction
MEANINGS: dict[AuditAction, str] = {
    A.APIKEY_CREATED: "An admin created a verification API key (its hash is stored, the key shown once).",
    A.APIKEY_REVOKED: "An admin revoked a verification API key.",
    A.AUDIT_EXPORTED: "Someone took a copy of the whole audit trail (count and head hash recorded).",
    A.AUTH_CLIENT_THROTTLED: "Too many failed sign-ins from one browser: it is paused.",
    A.AUTH_LOCKED_OUT: "Too many failed sign-ins on one account: it is locked for a while.",
    A.AUTH_SIGN_IN_FAILED: "A sign-in was refused (wrong password, unknown, inactive or locked account, bad input).",
    A.AUTH_SIGNED_IN: "A person signed in (password, single sign-on or demo).",
    A.AUTH_SIGNED_OUT: "A session ended: signed out, idle, too long, or the account changed.",
    A.COMMUNICATION_APPROVAL_REQUESTED: "A draft message was put to a compliance lead for approval.",
    A.COMMUNICATION_APPROVED: "A compliance lead who did not write it approved a message, words and recipients.",
    A.COMMUNICATION_DELIVERED: "A message reached one recipient's mail server or Salesforce.",
    A.COMMUNICATION_DELIVERY_FAILED: "A message could not be delivered to one recipient, for good.",
    A.COMMUNICATION_DRAFTED: "A message was prefilled from an incident's evidence.",
    A.COMMUNICATION_EDITED: "A draft's subject, text or recipients changed (the diff is recorded).",
    A.COMMUNICATION_FAILED: "A message failed: at least one recipient could not be reached.",
    A.COMMUNICATION_SEND_REQUESTED: "Someone sent a message: one delivery per recipient was queued.",
    A.COMMUNICATION_SENT: "Every recipient has the message; a regulatory clock it satisfies is met.",
    A.CONTACT_ADDED: "A contact joined the directory.",
    A.CONTACT_DEACTIVATED: "A contact no longer receives messages.",
    A.CONTACT_UPDATED: "A contact's name, address, role or organisation changed.",
    A.HASHBANK_ENTRY_ADDED: "A hash joined a bank (known synthetic or known genuine).",
    A.HASHBANK_EXPORTED: "The hash banks were exported as CSV.",
    A.HASHBANK_IMPORTED: "Hashes were imported from a CSV file.",
    A.INCIDENT_DECLARED: "An incident was declared; its awareness time starts the clocks.",
    A.INCIDENT_EVIDENCE_EXPORTED: "An incident's evidence pack was built (its manifest hash recorded).",
    A.INCIDENT_ITEMS_LINKED: "Files were linked to an incident.",
    A.INCIDENT_MOMENTS_CORRECTED: "A compliance lead corrected a moment that starts regulatory clocks, with a reason.",
    A.INCIDENT_MOMENTS_RECORDED: "A moment that starts regulatory clocks was recorded for the first time.",
    A.INCIDENT_NOTE_ADDED: "A note was added to an incident's timeline.",
    A.INCIDENT_ROLES_ASSIGNED: "An incident's commander, communications or compliance lead changed.",
    A.INCIDENT_SEVERITY_CHANGED: "An incident's severity changed, with a reason.",
    A.INCIDENT_STATUS_CHANGED: "An incident moved on (contained, resolved, closed) or was reopened.",
    A.INCIDENT_SUBMISSION_RECORDED: "A compliance lead recorded a notification made outside Response Desk.",
    A.ITEM_ASSIGNED: "A lead handed a held file to a reviewer.",
    A.ITEM_CONFIRMED_SYNTHETIC: "A reviewer confirmed a file synthetic: it stays held and its hashes are banked.",
    A.ITEM_PREEMPTIVE_HOLD: "An unverified file was held under pressure (backlog, API budget) before its verdict.",
    A.ITEM_PREEMPTIVE_HOLD_RELEASED: "A file held under pressure came out clean: its links are restored.",
    A.ITEM_QUARANTINED: "A person or a later bank match held a file that had passed.",
    A.ITEM_REGISTERED: "A file arrived (Salesforce, the verification API or an upload) and waits for its scan.",
    A.ITEM_RELEASE_REQUESTED: "A reviewer asked to release a high-risk file: a second person must approve.",
    A.ITEM_RELEASED: "A file was released by a recorded decision: its removed links come back.",
    A.ITEM_RETURNED_TO_QUEUE: "A reviewer handed a file back to the queue undecided.",
    A.ITEM_REVIEW_STARTED: "A reviewer claimed a held file: only they decide it now.",
    A.ITEM_SCAN_LEASE_TAKEN_OVER: "A scanner took over a file whose previous scanner stopped.",
    A.ITEM_SCAN_STARTED: "A scanner began verifying a file.",
    A.ITEM_SCANNED: "A scan finished: the verdict, and the file is clean or held.",
    A.OUTBOX_DEAD_LETTERED: "An effect on the outside world failed for good and waits for an admin.",
    A.OUTBOX_REQUEUED: "An admin sent a dead letter round again.",
    A.SALESFORCE_CASE_UPSERTED: "The review Case in Salesforce was opened or updated.",
    A.SALESFORCE_LINKS_RECORDED: "The links a quarantine will cut were written down before cutting them.",
    A.SALESFORCE_LINKS_RESTORED: "A release's links are back in the org, confirmed by reading them again.",
    A.SALESFORCE_QUARANTINE_APPLIED: "A file's links to customer records were cut and its sharing made private.",
    A.SALESFORCE_RESTORE_FAILED: "A release could not restore the file's links in the org: it is not released there.",
    A.SALESFORCE_VERIFICATION_WRITTEN: "The verdict fields and history record were written on the file in Salesforce.",
    A.SETTINGS_CHANGED: "An admin changed thresholds or detectors.",
    A.USER_ACTIVATED: "An account may sign in again.",
    A.USER_CREATED: "An account was created (by an admin, the console, single sign-on or demo seeding).",
    A.USER_DEACTIVATED: "An account may no longer sign in; its sessions end at their next action.",
    A.USER_ROLE_CHANGED: "An account's role changed (by an admin or the identity provider).",
    A.USER_UNLOCKED: "An admin lifted a lock after failed sign-ins.",
}
