"""The contacts directory: who must be told when an incident is declared. Audited changes."""
from __future__ import annotations

import re
from typing import Any

from core.adapters.uow import UnitOfWork
from core.domain.audit_actions import AuditAction
from core.domain.errors import NotFound
from core.domain.roles import Action, Actor
from core.models import Contact

# One list for the directory, the templates' audiences and the demo contacts.
CONTACT_ROLES = ("dpo", "regulator", "compliance_oncall", "legal", "communications", "security_oncall",
                 "salesforce_admin", "executive", "customer_care")
EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def _clean(name: str, email: str, role: str, organisation: str) -> dict[str, Any]:
    name, email, organisation = name.strip(), email.strip().lower(), organisation.strip()
    if not name:
        raise ValueError("a contact needs a name")
    if not EMAIL.match(email):
        raise ValueError(f"not an email address: {email!r}")
    if role not in CONTACT_ROLES:
        raise ValueError(f"role must be one of: {', '.join(CONTACT_ROLES)}")
    return {"name": name, "email": email, "role": role, "organisation": organisation}


def _snapshot(c: Contact) -> dict[str, Any]:
    return {"name": c.name, "email": c.email, "role": c.role, "organisation": c.organisation, "active": c.active}


def add_contact(uow: UnitOfWork, *, actor: Actor, name: str, email: str, role: str,
                organisation: str = "") -> int:
    fields = _clean(name, email, role, organisation)
    with uow:
        actor = uow.authorize(actor, Action.CONTACTS_MANAGE)
        contact = Contact(**fields)
        uow.session.add(contact)
        uow.session.flush()
        uow.record(actor, AuditAction.CONTACT_ADDED, "contact", contact.id, after=_snapshot(contact))
        uow.commit()
        return uow.new_id(contact)


def update_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int, name: str, email: str, role: str,
                   organisation: str = "", active: bool = True) -> None:
    """Edit a contact; `active=False` deactivates it (kept for the record, no longer notified)."""
    fields = _clean(name, email, role, organisation)
    with uow:
        actor = uow.authorize(actor, Action.CONTACTS_MANAGE)
        contact = uow.session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        before = _snapshot(contact)
        for key, value in {**fields, "active": active}.items():
            setattr(contact, key, value)
        after = _snapshot(contact)
        if after == before:
            return
        uow.session.add(contact)
        action = AuditAction.CONTACT_DEACTIVATED if before["active"] and not active else AuditAction.CONTACT_UPDATED
        uow.record(actor, action, "contact", contact.id, before=before, after=after)
        uow.commit()


def deactivate_contact(uow: UnitOfWork, *, actor: Actor, contact_id: int) -> None:
    with uow:
        actor = uow.authorize(actor, Action.CONTACTS_MANAGE)
        contact = uow.session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        if not contact.active:
            return
        before = _snapshot(contact)
        contact.active = False
        uow.session.add(contact)
        uow.record(actor, AuditAction.CONTACT_DEACTIVATED, "contact", contact.id, before=before, after=_snapshot(contact))
        uow.commit()
