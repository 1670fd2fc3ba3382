"""Helpers for audit tests: write events through the real unit of work, tamper below it."""
from __future__ import annotations

from sqlalchemy import text

from core.bootstrap import App
from core.domain.roles import Actor


def append_events(app: App, n: int, actor: Actor | None = None) -> None:
    actor = actor or Actor.system("test")
    for i in range(n):
        with app.uow() as uow:
            uow.record(actor, "test.event", "thing", i, after={"i": i})
            uow.commit()


def drop_guards(app: App) -> None:
    """What an attacker with database rights would do first."""
    with app.db.write_engine.begin() as conn:
        if app.db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")


def execute(app: App, sql: str, **params) -> None:
    with app.db.write_engine.begin() as conn:
        conn.execute(text(sql), params)
