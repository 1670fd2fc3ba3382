"""A demo that shows everything: the demo org's ninety days of history give every Trends chart data
and an audit trail that verifies, written once and only in demo mode; the demo traffic's files take
every verdict path through the real engine, near-duplicates of the files the history confirmed
synthetic included."""
from dataclasses import replace
from datetime import timedelta

import pytest

from core.bootstrap import build
from core.clock import utcnow
from core.commands import audit
from core.demo.history import seed_history
from core.demo.traffic import DEMO_SEED, FileFactory
from core.domain.roles import Actor, Role
from core.loops.uploads import check_file
from core.queries import trends

AUDITOR = Actor("auditor@demo.responsedesk.local", Role.AUDITOR)
RECORDS = [{"entity_id": f"a0K{n:015d}", "entity_type": "KYC_Check__c", "entity_name": f"KYC-{n:04d}",
            "account_id": f"001{n:015d}", "account_name": f"Client {n}"} for n in range(6)]


@pytest.fixture
def history(sqlite_app):
    assert seed_history(sqlite_app, records=RECORDS) > 200
    return sqlite_app


def test_ninety_days_of_history_give_every_trend_at_least_two_periods_of_data(history):
    now = utcnow()
    since, until = now - timedelta(days=91), now + timedelta(minutes=1)
    db = history.db
    weekly = {"flagged": trends.flagged(db, since, until, grain="week"),
              "confirmed": trends.confirmed(db, since, until, grain="week"),
              "false positives": trends.false_positive_rate(db, since, until, grain="week"),
              "drift": trends.score_distribution(db, since, until, grain="week"),
              "SLA": trends.sla_breaches(db, since, until, sla_hours=4, grain="week")}
    assert {name: frame["period"].nunique() >= 12 for name, frame in weekly.items()} == dict.fromkeys(weekly, True)
    rates = weekly["false positives"]["false_positive_rate"].dropna()
    assert rates.between(0, 1).all() and rates.max() > 0  # some flags were released, none counted twice
    assert weekly["SLA"]["breached"].sum() > 0 and (weekly["SLA"]["breached"] < weekly["SLA"]["decided"]).all()
    precision = trends.detector_precision(db, since, until)
    assert {"generator_metadata", "c2pa", "hash"} <= set(precision["detector"])
    assert set(trends.time_to_decision(db, since, until)["kind"]) == {"confirm_synthetic", "release"}
    assert audit.verify_chain(db, actor=AUDITOR, key=history.settings.audit_key).ok


def test_history_is_written_once_and_never_outside_demo_mode(history, tmp_path):
    assert seed_history(history, records=RECORDS) == 0
    production = build(replace(history.settings, demo_mode=False))
    try:
        with pytest.raises(RuntimeError, match="demo mode only"):
            seed_history(production)
    finally:
        production.db.dispose()


def test_demo_traffic_takes_every_verdict_path_including_near_duplicates_of_the_history(history):
    files = FileFactory(DEMO_SEED)
    expected = {"genuine": "low", "metadata": "high", "c2pa": "high", "near_duplicate": "high",
                "generator_software": "medium", "hostile": "unscannable"}
    uploads = {family: next(u for u in (files.next(n) for n in range(500)) if u.kind == family) for family in expected}
    reports = {family: check_file(history, actor=AUDITOR, data=u.data, file_name=u.name) for family, u in uploads.items()}
    assert {family: r["risk"] for family, r in reports.items()} == expected
    assert any("near-duplicate of known synthetic" in reason for reason in reports["near_duplicate"]["reasons"])
    assert any("C2PA manifest declares" in reason for reason in reports["c2pa"]["reasons"])
