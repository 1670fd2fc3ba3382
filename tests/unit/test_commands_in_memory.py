"""Commands' own rules, on an in-memory unit of work (tests/fakes.py): who may, what is refused, which
events are written. The integration tests run the same commands on SQLite files and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import utcnow
from core.commands import incidents, users
from core.domain.audit_actions import AuditAction
from core.domain.errors import FourEyesViolation, PermissionDenied
from core.domain.roles import Actor, Role
from tests.fakes import MemoryUnitOfWork


@pytest.fixture
def uow() -> MemoryUnitOfWork:
    return MemoryUnitOfWork()


def test_an_admin_changes_a_role_once_and_never_their_own(uow):
    admin = uow.person("ada@firm.test", Role.ADMIN)
    uow.person("rita@firm.test", Role.REVIEWER)
    users.set_role(uow(), actor=admin, email="rita@firm.test", role=Role.COMPLIANCE_LEAD, reason="promoted")
    users.set_role(uow(), actor=admin, email="rita@firm.test", role=Role.COMPLIANCE_LEAD, reason="again")
    with pytest.raises(FourEyesViolation):
        users.set_role(uow(), actor=admin, email="ada@firm.test", role=Role.AUDITOR, reason="rotation")
    assert uow.actions().count(AuditAction.USER_ROLE_CHANGED) == 1


def test_the_role_a_session_remembers_does_not_count(uow):
    uow.person("rita@firm.test", Role.AUDITOR)
    with pytest.raises(PermissionDenied):  # the account says auditor, whatever the caller claims
        users.create_user(uow(), actor=Actor("rita@firm.test", Role.ADMIN), email="x@firm.test",
                          role=Role.REVIEWER)
    assert AuditAction.USER_CREATED not in uow.actions()[1:]


def test_a_moment_is_recorded_once_and_corrected_only_by_compliance(uow):
    responder = uow.person("rob@firm.test", Role.RESPONDER)
    lead = uow.person("lea@firm.test", Role.COMPLIANCE_LEAD)
    incident_id = incidents.declare_incident(uow(), actor=responder, title="Deepfake selfies", severity="SEV1")
    first = utcnow() - timedelta(hours=2)
    incidents.record_moments(uow(), actor=responder, incident_id=incident_id, determined_at=first)
    incidents.record_moments(uow(), actor=responder, incident_id=incident_id, determined_at=first)  # same: no-op
    with pytest.raises(PermissionDenied):
        incidents.record_moments(uow(), actor=responder, incident_id=incident_id, determined_at=utcnow())
    incidents.record_moments(uow(), actor=lead, incident_id=incident_id, determined_at=first - timedelta(hours=1),
                             reason="the determination was made in the 07:00 call")
    assert [a for a in uow.actions() if a.startswith("incident.")] == [
        AuditAction.INCIDENT_DECLARED, AuditAction.INCIDENT_MOMENTS_RECORDED, AuditAction.INCIDENT_MOMENTS_CORRECTED]
