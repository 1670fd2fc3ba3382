"""Engines and sessions. SQLite by default (WAL, busy timeout), PostgreSQL by URL.

SQLite gets two engines on one file: writes begin with BEGIN IMMEDIATE, so a write
transaction holds the write lock from its first statement and two writers never
deadlock on a lock upgrade; reads stay deferred so the dashboard never waits on the worker.
"""
from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.adapters import files

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


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _private_sqlite_file(url: str) -> None:
    """The database file exists 0600 before SQLite opens it: SQLite would create it with the umask's
    mode, and gives its -wal and -shm files the database file's mode. Files an older installation
    left open to others are narrowed."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    database = Path(path)
    files.private_dir(database.parent)
    files.private_file(database)
    for companion in SQLITE_COMPANIONS:
        with suppress(FileNotFoundError):  # most of the time there is none, or it just went
            files.narrow(f"{database}{companion}", files.PRIVATE_FILE)


def make_database(url: str) -> Database:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        return Database(url, _sqlite_engine(url, "IMMEDIATE"), _sqlite_engine(url, "DEFERRED"))
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return Database(url, engine, engine)

