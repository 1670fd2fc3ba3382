"""Any single edit, deletion, insertion or reordering of audit rows, made below the
application with the guards dropped, is reported at the right sequence number."""
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from core.adapters import audit_store
from core.commands import audit
from core.domain import audit_chain
from core.domain.roles import Actor, Role
from core.models import AuditEvent
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.audit_helpers import append_events, drop_guards, execute

N = 6
AUDITOR = Actor.console("auditor", Role.AUDITOR)  # the operator at the console: no account


def verify(app):
    return audit.verify_chain(app.db, actor=AUDITOR, key=app.settings.audit_key)


@pytest.fixture
def chain(any_app):
    append_events(any_app, N)
    assert verify(any_app).ok
    return any_app


def test_database_refuses_update_and_delete(chain):
    for sql in ("UPDATE audit_event SET actor='x' WHERE seq=2", "DELETE FROM audit_event WHERE seq=2"):
        with pytest.raises(DatabaseError, match="append-only"):
            execute(chain, sql)
    assert verify(chain).ok


@pytest.mark.parametrize("seq", [1, 3, N])
@pytest.mark.parametrize("column,value", [("actor", "mallory@x"), ("after", '{"i":99}'),
                                          ("occurred_at", "2020-01-01 00:00:00"), ("reason", "covered up"),
                                          ("prev_hash", "f" * 64), ("outcome", "failure")])
def test_editing_a_row_is_reported_at_that_row(chain, seq, column, value):
    drop_guards(chain)
    execute(chain, f"UPDATE audit_event SET {column}=:v WHERE seq=:s", v=value, s=seq)
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == seq, report


@pytest.mark.parametrize("seq", [2, 4])
def test_editing_with_a_recomputed_hash_is_caught_by_the_seal(chain, seq):
    drop_guards(chain)
    with chain.db.reader() as s:
        row = audit_store.event_record(s.get(AuditEvent, seq))
    row["actor"] = "mallory@x"
    execute(chain, "UPDATE audit_event SET actor='mallory@x', hash=:h WHERE seq=:s",
            h=audit_chain.event_hash(row), s=seq)
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == seq


@pytest.mark.parametrize("seq", [1, 3, N])
def test_deleting_a_row_is_reported_at_its_sequence(chain, seq):
    drop_guards(chain)
    execute(chain, "DELETE FROM audit_event WHERE seq=:s", s=seq)
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == seq, report


def _forged_event(app, seq: int, prev_hash: str) -> dict:
    forged = {"seq": seq, "prev_hash": prev_hash, "occurred_at": "2026-11-29T10:00:00.000000Z",
              "actor": "mallory@x", "action": "item.released", "object_type": "media_item",
              "object_id": "1", "before": None, "after": None, "reason": None,
              "outcome": "success", "correlation_id": "forged"}
    forged["hash"] = audit_chain.event_hash(forged)
    forged["seal"] = audit_chain.seal(b"attacker does not know the key", forged["hash"])
    forged["occurred_at"] = "2026-11-29 10:00:00"
    return forged


INSERT = ("INSERT INTO audit_event (seq, prev_hash, hash, seal, occurred_at, actor, action, object_type,"
          " object_id, before, after, reason, outcome, correlation_id) VALUES (:seq, :prev_hash, :hash,"
          " :seal, :occurred_at, :actor, :action, :object_type, :object_id, :before, :after, :reason,"
          " :outcome, :correlation_id)")


def test_appending_a_correctly_hashed_row_is_reported(chain):
    head = verify(chain).head_hash
    execute(chain, INSERT, **_forged_event(chain, N + 1, head))
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == N + 1


@pytest.mark.parametrize("seq", [2, 5])
def test_inserting_a_row_in_the_middle_is_reported_at_its_place(chain, seq):
    drop_guards(chain)
    # Make room by moving later rows up one (highest first, so the key never collides).
    for s in range(N, seq - 1, -1):
        execute(chain, "UPDATE audit_event SET seq=:n WHERE seq=:s", n=s + 1, s=s)
    with chain.db.reader() as s:
        prev = s.execute(text("SELECT hash FROM audit_event WHERE seq=:s"), {"s": seq - 1}).scalar()
    execute(chain, INSERT, **_forged_event(chain, seq, prev))
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == seq, report


@pytest.mark.parametrize("a,b", [(1, 2), (3, 5), (N - 1, N)])
def test_swapping_two_rows_is_reported_at_the_first(chain, a, b):
    drop_guards(chain)
    execute(chain, "UPDATE audit_event SET seq=-1 WHERE seq=:a", a=a)
    execute(chain, "UPDATE audit_event SET seq=:a WHERE seq=:b", a=a, b=b)
    execute(chain, "UPDATE audit_event SET seq=:b WHERE seq=-1", b=b)
    report = verify(chain)
    assert not report.ok and report.first_broken_seq == a, report


def _cli(app, *args):
    env = {**os.environ, "DATABASE_URL": app.settings.database_url,
           "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode(), "RD_VAR_DIR": str(app.settings.var_dir)}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_verify_prints_count_and_head_then_names_the_broken_sequence(chain):
    ok = _cli(chain, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert f"{N} events" in ok.stdout and verify(chain).head_hash in ok.stdout
    drop_guards(chain)
    execute(chain, "UPDATE audit_event SET reason='edited' WHERE seq=4")
    broken = _cli(chain, "audit", "verify")
    assert broken.returncode == 1 and "sequence 4" in broken.stdout


def test_cli_export_verifies_alone_and_detects_edits(chain, tmp_path):
    out = tmp_path / "trail.jsonl"
    assert _cli(chain, "audit", "export", "--out", str(out)).returncode == 0
    assert _cli(chain, "audit", "verify", "--file", str(out)).returncode == 0
    assert _cli(chain, "audit", "verify", "--file", str(out), "--with-key").returncode == 0
    lines = out.read_text().splitlines()
    assert len(lines) == N + 2  # header, events, trailer
    event = json.loads(lines[3])
    event["actor"] = "mallory@x"
    lines[3] = json.dumps(event)
    out.write_text("\n".join(lines) + "\n")
    result = _cli(chain, "audit", "verify", "--file", str(out))
    assert result.returncode == 1 and "sequence 3" in result.stdout
    out.write_text("\n".join(lines[:-2]) + "\n")  # cut short: no trailer
    assert _cli(chain, "audit", "verify", "--file", str(out)).returncode == 1
