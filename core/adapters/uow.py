"""Unit of work: one transaction that carries a change, its audit events and its outbox rows.

    with uow:
        ...change entities, uow.record(...)...
        uow.commit()

Leaving the block without commit() rolls everything back, audit events included.

A person acts only after `uow.authorize(actor, action)` in the same transaction, which reads their
current role and active flag; `record()` refuses an event by a person this transaction has not
authorised, so a command that forgets the check fails loudly instead of acting on a stale role.
Sign-in and sign-out events, whose actor is a claimed identity, go through `record_claim()`.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from core.adapters import audit_store, people
from core.adapters.db import Database
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.roles import Action, Actor
from core.faultpoints import crash_point
from core.models import OutboxEntry


class UnitOfWork:
    def __init__(self, db: Database, audit_key: bytes, correlation_id: str | None = None):
        self.db = db
        self.audit_key = audit_key
        self.correlation_id = correlation_id or uuid.uuid4().hex
        self._session: Session | None = None
        self._events: list[audit_store.PendingEvent] = []
        self._authorized: set[str] = set()
        self.written_events: list = []

    def __enter__(self) -> UnitOfWork:
        self._session = self.db.writer()
        self._events, self._authorized = [], set()
        return self

    def __exit__(self, *exc) -> None:
        session = self._open()
        session.rollback()
        session.close()
        self._session = None

    @property
    def session(self) -> Session:
        """The transaction's session; a unit of work used outside its `with` block is a bug."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it inside `with uow:`")
        return self._session

    def _open(self) -> Session:
        return self.session

    def new_id(self, row: Any) -> int:
        """The id the database gave a row just added (it assigns one at flush)."""
        self.session.flush()
        if row.id is None:
            raise RuntimeError(f"{type(row).__name__} has no id after flush")
        return int(row.id)

    def authorize(self, actor: Actor, action: Action) -> Actor:
        """The actor as their account says now, if that role may do `action` (PermissionDenied
        otherwise). Use the returned actor from here on."""
        current = people.authorize(self._open(), actor, action)
        self._authorized.add(current.id)
        return current

    def record(self, actor: Actor, action: AuditAction, object_type: str, object_id: Any, *,
               before: dict | None = None, after: dict | None = None,
               reason: str | None = None, outcome: str = "success") -> None:
        if actor.is_person and actor.id not in self._authorized:
            raise RuntimeError(f"{actor.id} was not authorised in this transaction: call uow.authorize first")
        self.record_claim(actor.id, action, object_type, object_id, before=before, after=after,
                          reason=reason, outcome=outcome)

    def record_claim(self, actor_id: str, action: AuditAction, object_type: str, object_id: Any, *,
                     before: dict | None = None, after: dict | None = None,
                     reason: str | None = None, outcome: str = "success") -> None:
        """An event whose actor is who someone claimed to be (sign-in attempts, sign-outs)."""
        if not isinstance(action, AuditAction):  # one list of what the trail may say: core.domain.audit_actions
            raise TypeError(f"audit action {action!r} is not an AuditAction")
        self._events.append(audit_store.PendingEvent(
            occurred_at=utcnow(), actor=actor_id, action=action.value, object_type=object_type,
            object_id=str(object_id), before=before, after=after, reason=reason, outcome=outcome))

    def enqueue(self, kind: str, payload: dict, idempotency_key: str, item_id: int | None = None) -> None:
        """Add an outbox row: the relay performs the external effect after commit."""
        self._open().add(OutboxEntry(kind=kind, payload=payload, idempotency_key=idempotency_key,
                                     item_id=item_id))

    def commit(self) -> None:
        self._open().flush()
        self.written_events = audit_store.append(
            self.session, self._events, self.audit_key, self.correlation_id)
        crash_point("before_commit")
        self.session.commit()
        self._events = []
