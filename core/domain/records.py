"""Which Salesforce records a file's links point at, and whose they are: the one rule for a "customer
record" and for the customer behind it.

A file in Salesforce is linked to its owner (a User), maybe to groups and libraries, and to the
records it belongs to: an Account, a Contact, a KYC check, an opportunity. Only the last kind is a
customer record: quarantine cuts those links, the review Case names them, incidents count the
customers behind them. Everything that asks decides it here."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Users, groups and queues, libraries (ContentWorkspace): never a customer's record.
NOT_CUSTOMER_TYPES = frozenset({"User", "Group", "ContentWorkspace"})
# Their id prefixes, for links whose type was not read: 005 User, 00G Group/Queue, 058 ContentWorkspace.
NOT_CUSTOMER_PREFIXES = ("005", "00G", "058")


def is_customer_record(link: Mapping[str, Any]) -> bool:
    """A link to a record (account, contact, KYC check...), not to a user's or a library's own copy.
    Both the type and the id prefix must say so: a link whose type is unknown is judged by its id."""
    return (link.get("entity_type") not in NOT_CUSTOMER_TYPES
            and not str(link.get("entity_id") or "").startswith(NOT_CUSTOMER_PREFIXES))


# The fields that name the customer behind a record, per object: read at ingest with the file's links
# (core.adapters.salesforce.content) and kept on each link under the key after the arrow. A person
# account (IsPersonAccount) is one person, whose own Contact is its PersonContactId.
CUSTOMER_FIELDS: dict[str, dict[str, str]] = {
    "Account": {"IsPersonAccount": "is_person_account", "PersonContactId": "person_contact_id"},
    "Contact": {"AccountId": "account_id", "Account.Name": "account_name",
                "Account.IsPersonAccount": "account_is_person"},
    "Case": {"AccountId": "account_id", "Account.Name": "account_name", "ContactId": "contact_id",
             "Contact.Name": "contact_name"},
    "Opportunity": {"AccountId": "account_id", "Account.Name": "account_name"},
    "KYC_Check__c": {"Account__c": "account_id", "Account__r.Name": "account_name", "Contact__c": "contact_id",
                     "Contact__r.Name": "contact_name"},
}
