"""Which Salesforce records a file's links point at: the one rule for a "customer record".

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
