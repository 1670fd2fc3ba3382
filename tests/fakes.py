"""A unit of work for command tests where the database is not the point: SQLite in memory, tables
from the models (no migration, no file, no server), and the audit events the commands wrote kept as
plain records to assert on. Commands run unchanged against it; permission checks, state rules and the
events they write are what such a test looks at."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

from core.adapters.db import Database
from core.adapters.uow import UnitOfWork
from core.domain.roles import Actor, Role

KEY = b"in-memory-unit-of-work-key-0123456789"


def _memory_database() -> Database:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    import core.models  # noqa: F401 (registers the tables)
    from core.domain.audit_chain import GENESIS_HASH
    from core.models import AuditAnchor

    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:  # the chain's head, as the first migration writes it
        s.add(AuditAnchor(id=1, seq=0, head_hash=GENESIS_HASH))
        s.commit()
    return Database("sqlite://", engine, engine)


@dataclass
class MemoryUnitOfWork:
    """Hands out units of work over one in-memory database and remembers every event they wrote."""

    db: Database = field(default_factory=_memory_database)
    events: list = field(default_factory=list)

    def __call__(self) -> UnitOfWork:
        memory = self

        class Recording(UnitOfWork):
            def commit(self) -> None:
                super().commit()
                memory.events.extend((e.actor, e.action, e.object_type, e.object_id) for e in self.written_events)

        return Recording(self.db, KEY)

    def person(self, email: str, role: Role) -> Actor:
        """An account to act as: commands read the acting person's role from it."""
        from core.commands.users import create_user

        create_user(self(), actor=Actor.system("test"), email=email, role=role)
        return Actor(email, role)

    def actions(self) -> list[str]:
        return [action for _, action, _, _ in self.events]
