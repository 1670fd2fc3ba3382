"""Audit append throughput: events/s for one writer and for 4 concurrent writers,
on SQLite (WAL) and on a throwaway PostgreSQL cluster when its binaries are installed.

    .venv/bin/python bench/audit_append.py [--events 1000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.bootstrap import build, migrate
from core.commands.audit import verify_chain
from core.domain.roles import Actor, Role
from core.settings import Settings
from tests import pg
from tests.integration.audit_helpers import run_concurrent_appends

KEY = b"benchmark-audit-key-0123456789abcdef"


def measure(url: str, events: int) -> tuple[float, float, bool]:
    migrate(url)
    single = events / run_concurrent_appends(url, KEY, 1, events)
    four = 4 * events / run_concurrent_appends(url, KEY, 4, events)
    app = build(Settings(database_url=url, var_dir=Path("/tmp"), audit_key=KEY, demo_mode=False))
    ok = verify_chain(app.db, actor=Actor("bench", Role.AUDITOR), key=KEY).ok
    app.db.dispose()
    return single, four, ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000, help="events per writer")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("sqlite", *measure(f"sqlite:///{tmp}/bench.db", args.events)))
    bindir = pg.find_bindir()
    if bindir:
        cluster = pg.Cluster(bindir)
        cluster.start()
        try:
            pg.wait_ready(cluster.url())
            rows.append(("postgresql", *measure(cluster.url(), args.events)))
        finally:
            cluster.stop()
    else:
        print("PostgreSQL binaries not found: PostgreSQL row skipped")
    print(f"{'database':<11} {'1 writer ev/s':>14} {'4 writers ev/s':>15} {'ratio':>6}  chain")
    for name, single, four, ok in rows:
        print(f"{name:<11} {single:>14.0f} {four:>15.0f} {four / single:>6.2f}  {'intact' if ok else 'BROKEN'}")


if __name__ == "__main__":
    main()
