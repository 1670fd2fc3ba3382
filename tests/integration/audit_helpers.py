"""Helpers for audit tests: write events through the real unit of work, tamper below it."""
from __future__ import annotations

from sqlalchemy import text

from core.bootstrap import App
from core.domain.audit_actions import AuditAction
from core.domain.roles import Actor


def append_events(app: App, n: int, actor: Actor | None = None) -> None:
    actor = actor or Actor.system("test")
    for i in range(n):
        with app.uow() as uow:
            uow.record(actor, AuditAction.SETTINGS_CHANGED, "thing", i, after={"i": i})
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


def append_in_process(database_url: str, key: bytes, n: int, tag: str) -> float:
    """Run in a child process: append n events, one transaction each. Returns seconds taken."""
    import time

    from core.bootstrap import build
    from core.settings import Settings

    app = build(Settings(database_url=database_url, var_dir=__import__("pathlib").Path("/tmp"),
                         audit_key=key, demo_mode=False))
    actor = Actor.system(tag)
    start = time.perf_counter()
    for i in range(n):
        with app.uow() as uow:
            uow.record(actor, AuditAction.SETTINGS_CHANGED, "thing", f"{tag}-{i}", after={"i": i})
            uow.commit()
    elapsed = time.perf_counter() - start
    app.db.dispose()
    return elapsed


def run_concurrent_appends(database_url: str, key: bytes, processes: int, per_process: int) -> float:
    """Start `processes` writer processes at once; returns wall-clock seconds for all of them.

    Plain subprocesses, not multiprocessing: spawn re-imports the parent's __main__, which inside
    a test session that ran AppTest is the Streamlit script."""
    import os
    import subprocess
    import sys
    import time

    from core.settings import PROJECT_ROOT

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.integration.audit_helpers", database_url,
                               key.hex(), str(per_process), f"w{p}"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in range(processes)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed: {err[-2000:]}")
    return time.perf_counter() - start


if __name__ == "__main__":
    import sys

    url, key_hex, count, tag = sys.argv[1:5]
    print(append_in_process(url, bytes.fromhex(key_hex), int(count), tag))
