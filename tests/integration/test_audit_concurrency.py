"""Concurrent writers cannot fork the chain: 4 processes x 1,000 events leave one chain."""
import pytest
from sqlalchemy import func, select

from core.commands.audit import verify_chain
from core.domain.roles import Actor, Role
from core.models import AuditEvent
from tests.integration.audit_helpers import run_concurrent_appends

PROCESSES, PER_PROCESS = 4, 1000


@pytest.mark.slow
def test_four_writers_leave_one_unbroken_chain(any_app):
    run_concurrent_appends(any_app.settings.database_url, any_app.settings.audit_key, PROCESSES, PER_PROCESS)
    report = verify_chain(any_app.db, actor=Actor.console("auditor", Role.AUDITOR), key=any_app.settings.audit_key)
    assert report.ok, report
    assert report.count == PROCESSES * PER_PROCESS
    with any_app.db.reader() as s:
        writers = s.execute(select(AuditEvent.actor, func.count()).group_by(AuditEvent.actor)).all()
    assert sorted(writers) == [(f"system:w{p}", PER_PROCESS) for p in range(PROCESSES)]
