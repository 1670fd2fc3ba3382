"""Keys for the verification API: created by an admin, stored as a SHA-256, revocable."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from core.adapters.db import Database
from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.errors import NotFound
from core.domain.roles import Action, Actor
from core.models import ApiKey

KEY_PREFIX = "rdk_"


def key_hash(key: str) -> str:
    # Keys are 256 random bits: a fast hash is enough, no password-style stretching needed.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(uow: UnitOfWork, *, actor: Actor, name: str, rate_per_minute: int = 120) -> tuple[int, str]:
    """Returns (id, key). The key is shown this once and never stored."""
    if not name.strip():
        raise ValueError("an API key needs a name saying who uses it")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        actor = uow.authorize(actor, Action.APIKEYS_MANAGE)
        row = ApiKey(name=name.strip(), prefix=key[:10], key_hash=key_hash(key), rate_per_minute=rate_per_minute,
                     created_by=actor.id)
        uow.session.add(row)
        uow.session.flush()
        uow.record(actor, AuditAction.APIKEY_CREATED, "api_key", row.id,
                   after={"name": row.name, "prefix": row.prefix, "rate_per_minute": rate_per_minute})
        uow.commit()
        return uow.new_id(row), key


def revoke_api_key(uow: UnitOfWork, *, actor: Actor, key_id: int) -> None:
    with uow:
        actor = uow.authorize(actor, Action.APIKEYS_MANAGE)
        row = uow.session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"no active API key {key_id}")
        row.revoked_at = utcnow()
        uow.session.add(row)
        uow.record(actor, AuditAction.APIKEY_REVOKED, "api_key", key_id, before={"name": row.name, "prefix": row.prefix})
        uow.commit()


def authenticate(db: Database, key: str) -> ApiKey | None:
    """The active key with this value, or None."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    with db.reader() as s:
        row = s.execute(select(ApiKey).where(ApiKey.key_hash == key_hash(key),
                                             ApiKey.revoked_at.is_(None))).scalar_one_or_none()
    stale = row is not None and (row.last_used_at is None or (utcnow() - row.last_used_at).total_seconds() > 60)
    if stale:  # at most one write a minute per key: the hot path stays read-only
        with db.writer() as s:
            s.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=utcnow()))
            s.commit()
    return row
