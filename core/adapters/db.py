"""Engines and sessions. SQLite by default (WAL, busy timeout), PostgreSQL by URL.

SQLite gets two engines on one file: writes begin with BEGIN IMMEDIATE, so a write
transaction holds the write lock from its first statement and two writers never
deadlock on a lock upgrade; reads stay deferred so the dashboard never waits on the worker.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Database:
    url: str
    write_engine: Engine
    read_engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    def writer(self) -> Session:
        return Session(self.write_engine, expire_on_commit=False)

    def reader(self) -> Session:
        return Session(self.read_engine, expire_on_commit=False)

    def snapshot(self) -> Session:
        """A read session that sees one consistent state of the database throughout.
        SQLite's deferred read transaction already does; PostgreSQL needs REPEATABLE READ."""
        session = self.reader()
        if not self.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return session

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control from the driver so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(f"BEGIN {begin}")

    return engine


def make_database(url: str) -> Database:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Database(url, _sqlite_engine(url, "IMMEDIATE"), _sqlite_engine(url, "DEFERRED"))
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return Database(url, engine, engine)

