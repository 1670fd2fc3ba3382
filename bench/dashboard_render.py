"""Dashboard render time at scale: seeds 10,000 and then 1,000,000 media items (4 signals, a
verdict each; decisions for the decided ones) into a temporary SQLite database with batched
executemany, then times each page's AppTest run with cold caches.

    .venv/bin/python bench/dashboard_render.py [--sizes 10000 1000000]

The last line is `worst_page_render_s_at_1m=<seconds>`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KEY = "benchmark-audit-key-0123456789abcdef"
BATCH = 50_000
DAYS = 365
PAGES = [("pages/live.py", "responder"), ("pages/review.py", "reviewer"), ("pages/trends.py", "compliance_lead"),
         ("pages/audit.py", "auditor"), ("pages/settings.py", "admin"), ("pages/incidents.py", "responder"),
         ("pages/check_file.py", "responder")]
DETECTORS = [("hash", "sha256+phash1", False), ("c2pa", "1", False), ("artifact_cnn", "1.0.0", True),
             ("spectrum_mlp", "1.0.0", True)]
SOURCES = ["Account", "Contact", "Case", "KYC_Check__c", "Opportunity"]


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # how UTCDateTime lands in SQLite


def fate(rng: random.Random) -> tuple[str, str]:
    """(state, risk) with a plausible mix: most clean, a few held, some decided."""
    roll = rng.random()
    if roll < 0.001:
        return "received", None
    if roll < 0.90:
        return "clean", "low"
    if roll < 0.93:
        return "confirmed_synthetic", "high"
    if roll < 0.97:
        return "released", rng.choice(["medium", "high"])
    if roll < 0.995:
        return "quarantined", rng.choice(["high", "medium", "medium", "unscannable"])
    return "in_review", rng.choice(["high", "medium"])


def seed(path: Path, n: int, rng: random.Random) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    items, verdicts, signals, decisions = [], [], [], []
    next_signal = 1

    def flush(final: bool = False) -> None:
        if len(items) >= BATCH or final:
            con.executemany("INSERT INTO media_item (id, source, external_id, org_id, source_object, file_name, "
                            "declared_type, size_bytes, sha256, storage_path, uploaded_by, linked_records, provenance, "
                            "state, risk, received_at, scanned_at, decided_at, assignee, scan_attempts, updated_at) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
            con.executemany("INSERT INTO verdict (id, item_id, risk, reasons, detector_versions, created_at) "
                            "VALUES (?,?,?,?,?,?)", verdicts)
            con.executemany("INSERT INTO signal (id, item_id, verdict_id, name, version, score, label, evidence, "
                            "created_at) VALUES (?,?,?,?,?,?,?,?,?)", signals)
            con.executemany("INSERT INTO decision (item_id, kind, status, reason_code, note, decided_by, decided_at) "
                            "VALUES (?,?,?,?,?,?,?)", decisions)
            con.commit()
            for rows in (items, verdicts, signals, decisions):
                rows.clear()

    versions = json.dumps({name: version for name, version, _ in DETECTORS})
    for i in range(1, n + 1):
        # 2% of the items arrived in the last hour, the rest over a year.
        age = timedelta(seconds=rng.uniform(0, 3600)) if rng.random() < 0.02 else timedelta(days=rng.uniform(0, DAYS))
        received = now - age
        state, risk = fate(rng)
        scanned = None if state == "received" else received + timedelta(seconds=rng.uniform(1, 30))
        customer = f"001{rng.randrange(50_000):015d}"
        links = json.dumps([{"link_id": f"06A{i:015d}", "entity_id": customer, "entity_type": "Account",
                             "entity_name": f"Customer {customer[-5:]}"}])
        decided = None
        if state in ("confirmed_synthetic", "released"):
            decided = min(now, scanned + timedelta(hours=rng.expovariate(1 / 3)))
            kind = "confirm_synthetic" if state == "confirmed_synthetic" else "release"
            decisions.append((i, kind, "final", "other", "bench", "reviewer@demo.responsedesk.local", ts(decided)))
        assignee = "reviewer@demo.responsedesk.local" if state == "in_review" else None
        items.append((i, "salesforce", f"068{i:015d}", "https://bench.example.com", rng.choice(SOURCES),
                      f"upload_{i}.jpg", "image/jpeg", 200_000, f"{i:064x}", None, "kyc.bench", links, "{}",
                      state, risk, ts(received), scanned and ts(scanned), decided and ts(decided), assignee, 1,
                      ts(decided or scanned or received)))
        if scanned is None:
            continue
        verdicts.append((i, i, risk, '["bench"]', versions, ts(scanned)))
        flagged = risk in ("high", "medium")
        for name, version, scored in DETECTORS:
            score = min(1.0, max(0.0, rng.gauss(0.8 if flagged else 0.2, 0.15))) if scored else None
            label = ("synthetic" if score >= 0.5 else "genuine") if scored else \
                ("known_synthetic_near" if name == "hash" and risk == "high" and rng.random() < 0.3 else
                 {"hash": "no_match", "c2pa": "no_manifest"}[name])
            signals.append((next_signal, i, i, name, version, score, label, "{}", ts(scanned)))
            next_signal += 1
        flush()
    flush(final=True)
    con.close()


def render_times(db_path: Path, var_dir: Path) -> dict[str, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core import bootstrap, settings
    from core.settings import PROJECT_ROOT

    os.environ.update({"DATABASE_URL": f"sqlite:///{db_path}", "RD_VAR_DIR": str(var_dir), "RD_AUDIT_KEY": KEY,
                       "RD_DEMO": "true"})
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()
    st.cache_resource.clear()
    from core.queries import items as item_queries

    first_queued = item_queries.next_in_queue(bootstrap.get_app().db, reviewer="nobody@bench")
    times = {}
    for page, role in PAGES:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120).run()
        at.button(key=f"signin-{role.replace('_', '.')}@demo.responsedesk.local").click().run()
        if page == "pages/review.py":
            at.session_state["review_item"] = first_queued
        at.switch_page(page)
        st.cache_data.clear()  # cold: every query runs
        started = time.perf_counter()
        at.run()
        times[page] = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    bootstrap.get_app().db.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    from core.bootstrap import migrate

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            db_path = folder / "bench.db"
            migrate(f"sqlite:///{db_path}")
            started = time.perf_counter()
            seed(db_path, n, random.Random(n))
            print(f"seeded {n:,} items ({4 * n:,} signals) in {time.perf_counter() - started:.0f} s", flush=True)
            results[n] = render_times(db_path, folder)
    sizes = list(results)
    print()
    print("| page | " + " | ".join(f"{n:,} items (s)" for n in sizes) + " |")
    print("| --- | " + " | ".join("---:" for _ in sizes) + " |")
    for page, _ in PAGES:
        print(f"| {page} | " + " | ".join(f"{results[n][page]:.3f}" for n in sizes) + " |")
    worst = max(results[sizes[-1]].values())
    print(f"worst_page_render_s_at_{'1m' if sizes[-1] == 1_000_000 else sizes[-1]}={worst:.3f}")


if __name__ == "__main__":
    main()
