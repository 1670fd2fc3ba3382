"""Incidents: severities with their written definitions, the status order, and who must approve
a message before it leaves the firm. Plain Python, no I/O."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.domain.errors import IllegalTransition


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"


SEVERITY_DEFINITIONS: dict[Severity, str] = {
    Severity.SEV1: ("Synthetic media was used, or is likely to have been used, against customers: it reached "
                    "identity verification (KYC), instructions or payments for several customers, or a "
                    "regulator or customer notification is likely. Every role is paged now; the regulatory "
                    "clocks run from the time of awareness."),
    Severity.SEV2: ("Synthetic media is confirmed in customer records but held: quarantined before it was "
                    "relied on, or limited to one customer with no funds moved. Compliance decides within the "
                    "day whether notification duties apply."),
    Severity.SEV3: ("Suspected synthetic media with no confirmed customer impact: a detector finding, hash-bank "
                    "match or report under investigation. Work in business hours; raise the severity as soon "
                    "as impact is confirmed."),
}


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


S = IncidentStatus
# Forward one step at a time; reopening goes back to investigating (with a reason). Closed is final.
_NEXT: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.INVESTIGATING: frozenset({S.CONTAINED}),
    S.CONTAINED: frozenset({S.RESOLVED, S.INVESTIGATING}),
    S.RESOLVED: frozenset({S.CLOSED, S.INVESTIGATING}),
    S.CLOSED: frozenset(),
}


def allowed_next(status: IncidentStatus | str) -> list[IncidentStatus]:
    return sorted(_NEXT[IncidentStatus(status)], key=list(IncidentStatus).index)


def check_status_change(current: IncidentStatus | str, target: IncidentStatus | str, reason: str = "") -> None:
    current, target = IncidentStatus(current), IncidentStatus(target)
    if target not in _NEXT[current]:
        raise IllegalTransition(f"an incident cannot go from {current} to {target}")
    if target is S.INVESTIGATING and not reason.strip():
        raise IllegalTransition("reopening an incident needs a reason")


class Audience(StrEnum):
    COMPLIANCE = "compliance"
    SECURITY = "security_operations"
    LEGAL = "legal"
    SALESFORCE_ADMIN = "salesforce_admin"
    EXECUTIVE = "executive"
    REGULATOR = "regulator"
    CUSTOMERS = "customers"
    LAW_ENFORCEMENT = "law_enforcement"

    @property
    def label(self) -> str:
        return AUDIENCE_LABELS[self]


AUDIENCE_LABELS = {Audience.COMPLIANCE: "Compliance", Audience.SECURITY: "Security operations", Audience.LEGAL: "Legal",
                   Audience.SALESFORCE_ADMIN: "Salesforce admins", Audience.EXECUTIVE: "Executives",
                   Audience.REGULATOR: "Regulator", Audience.CUSTOMERS: "Customers",
                   Audience.LAW_ENFORCEMENT: "Law enforcement"}

EXTERNAL_AUDIENCES = frozenset({Audience.REGULATOR, Audience.CUSTOMERS, Audience.LAW_ENFORCEMENT})

# Contact directory roles that receive each audience's messages by default.
AUDIENCE_CONTACT_ROLES: dict[Audience, tuple[str, ...]] = {
    Audience.COMPLIANCE: ("compliance_oncall", "dpo"),
    Audience.SECURITY: ("security_oncall", "security"),  # core.commands.contacts names it "security"
    Audience.LEGAL: ("legal",),
    Audience.SALESFORCE_ADMIN: ("salesforce_admin",),
    Audience.EXECUTIVE: ("executive",),
    Audience.REGULATOR: ("regulator",),
    Audience.CUSTOMERS: (),  # addressed one by one from the affected customers
    Audience.LAW_ENFORCEMENT: ("law_enforcement",),
}
CONTACT_ROLES = ("dpo", "regulator", "compliance_oncall", "salesforce_admin", "executive", "security_oncall",
                 "legal", "law_enforcement")


INTERNAL_CONTACT_ROLES = frozenset(role for audience, roles in AUDIENCE_CONTACT_ROLES.items()
                                    if audience not in EXTERNAL_AUDIENCES for role in roles)


def is_external(audience: Audience | str) -> bool:
    return Audience(audience) in EXTERNAL_AUDIENCES


def is_internal_address(email: str, internal_contacts: frozenset[str], internal_domains: Iterable[str]) -> bool:
    """A recipient inside the firm: a directory contact with an internal role, or an address in one
    of the firm's own domains (or their subdomains). Everyone else is outside."""
    email = email.strip().lower()
    domain = email.rpartition("@")[2]
    return email in internal_contacts or any(
        domain == d or domain.endswith("." + d) for d in (d.strip().lower().lstrip("@") for d in internal_domains) if d)


def approval_reasons(audience: Audience | str, recipients: Iterable[str], clock_rule: str | None,
                     internal_contacts: frozenset[str], internal_domains: Iterable[str]) -> list[str]:
    """Why a message needs a compliance lead's approval before it leaves; [] when it needs none.
    The recipients decide, whatever the audience label says."""
    reasons = []
    if is_external(audience):
        reasons.append(f"it is addressed to {Audience(audience).value.replace('_', ' ')}")
    domains = tuple(internal_domains)
    outside = [r for r in recipients if not is_internal_address(r, internal_contacts, domains)]
    if outside:
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        reasons.append(f"it goes outside the firm ({', '.join(outside[:3])}{more})")
    if clock_rule:
        reasons.append(f"it stops the regulatory clock {clock_rule}")
    return reasons


def clock_rule_problem(rule_id: str, rule_audience: str, audience: Audience | str, recipients: Iterable[str],
                       audience_contacts: frozenset[str]) -> str | None:
    """Why a message cannot stop this clock (None when it can): it must go to the rule's audience,
    and, where the directory names that audience's contacts, to at least one of them."""
    if Audience(audience).value != rule_audience:
        return (f"the clock {rule_id} is stopped by a message to {rule_audience.replace('_', ' ')}, not by one "
                f"to {Audience(audience).value.replace('_', ' ')}")
    if AUDIENCE_CONTACT_ROLES[Audience(audience)] and not {r.strip().lower() for r in recipients} & audience_contacts:
        return (f"the clock {rule_id} is stopped only by a message to a {rule_audience.replace('_', ' ')} contact "
                "from the directory: add one as a recipient")
    return None


@dataclass(frozen=True)
class Reference:
    """How people name an incident in messages and tickets."""

    incident_id: int

    def __str__(self) -> str:
        return f"INC-{self.incident_id:04d}"


ACCOUNT_LOOKUPS = ("account_id", "AccountId", "Account__c")  # where a record names its customer's account
CONTACT_LOOKUPS = ("contact_id", "ContactId", "Contact__c")
PERSON_ACCOUNT, BUSINESS_ACCOUNT, ACCOUNT, CONTACT = "Person account", "Business account", "Account", "Contact"


def _lookup(link: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((str(link[k]) for k in keys if link.get(k)), None)


def _account_kind(is_person: Any) -> str:
    return ACCOUNT if is_person is None else PERSON_ACCOUNT if is_person else BUSINESS_ACCOUNT


Customer = tuple[str, str, str]  # (id, kind, name)


def _accounts_of_contacts(links: list[dict[str, Any]]) -> dict[str, Customer]:
    """Which account each contact belongs to, as far as the links say: a person account's own contact
    (PersonContactId), a Contact's AccountId."""
    owners: dict[str, Customer] = {}
    for link in links:
        rid, rtype = str(link["entity_id"]), link.get("entity_type")
        if rtype == "Account" and link.get("person_contact_id"):
            owners[str(link["person_contact_id"])] = (rid, PERSON_ACCOUNT, link.get("entity_name") or rid)
        elif rtype == "Contact" and (account := _lookup(link, ACCOUNT_LOOKUPS)):
            owners.setdefault(rid, (account, _account_kind(link.get("account_is_person")),
                                    link.get("account_name") or f"Account {account}"))
    return owners


def _customer(link: dict[str, Any], owners: dict[str, Customer]) -> tuple[Customer, bool] | None:
    """The customer behind one record link, and whether the record is that customer itself."""
    rid, rtype = str(link["entity_id"]), link.get("entity_type")
    name = link.get("entity_name") or rid
    if rtype == "Account":
        return (rid, _account_kind(link.get("is_person_account")), name), True
    contact = rid if rtype == "Contact" else _lookup(link, CONTACT_LOOKUPS)
    if contact in owners:
        return owners[contact], False
    if account := _lookup(link, ACCOUNT_LOOKUPS):
        return (account, _account_kind(link.get("account_is_person")), link.get("account_name") or f"Account {account}"), \
            False
    if contact is None:
        return None
    if rtype == "Contact":
        return (contact, CONTACT, name), True
    return (contact, CONTACT, link.get("contact_name") or f"Contact {contact}"), False


def affected_customers(links_by_item: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """The customers behind the Salesforce records that an incident's files touched: the one count of
    "customers affected" that the Incidents page and every notice use.

    `links_by_item`: {item id: customer-record links (entity_id, entity_type, entity_name, and the
    lookups core.domain.records.CUSTOMER_FIELDS reads at ingest)}. A customer is an account, a
    business or a person account, reached directly or through the account a record names (a Contact's
    AccountId, a KYC check's Account__c); a person account's own contact (PersonContactId) is the
    same person; a Contact with no known account is a customer of its own. A record that names no
    customer (no account or contact lookup) is counted as a record, not as a customer."""
    owners = _accounts_of_contacts([link for links in links_by_item.values() for link in links])
    records: dict[str, dict[str, Any]] = {}
    customers: dict[str, dict[str, Any]] = {}
    for item_id, links in sorted(links_by_item.items()):
        for link in links:
            rid = str(link["entity_id"])
            record = records.setdefault(rid, {"id": rid, "type": link.get("entity_type") or "record",
                                              "name": link.get("entity_name") or rid, "items": []})
            _add(record["items"], item_id)
            found = _customer(link, owners)
            if found is None:
                continue
            (cid, kind, name), itself = found
            customer = customers.setdefault(cid, {"id": cid, "kind": kind, "name": name, "records": [], "items": []})
            if itself:  # the record's own name and kind say most
                customer["name"] = name
            if customer["kind"] in (ACCOUNT, CONTACT) and kind in (PERSON_ACCOUNT, BUSINESS_ACCOUNT):
                customer["kind"] = kind
            _add(customer["records"], record["name"])
            _add(customer["items"], item_id)
    ordered = sorted(customers.values(), key=lambda c: (c["name"].lower(), c["id"]))
    return {"customers": ordered, "customer_count": len(ordered),
            "records": sorted(records.values(), key=lambda r: (r["type"], r["name"])),
            "record_count": len(records),
            "record_types": sorted({r["type"] for r in records.values()})}


def _add(values: list[Any], value: Any) -> None:
    if value not in values:
        values.append(value)
