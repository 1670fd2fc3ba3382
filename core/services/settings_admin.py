"""Thresholds an admin changes in the dashboard, kept in `app_setting` and audited.

Only operating thresholds live here, never secrets: keys that look like credentials are refused,
so a secret can never end up in the database or the audit trail by way of this page."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from core.clock import utcnow
from core.domain.lifecycle import Risk
from core.domain.roles import Action, Actor, require
from core.models import AppSetting
from core.services.uow import UnitOfWork

THRESHOLDS_KEY = "thresholds"
SECRET_WORDS = ("secret", "password", "token", "key", "credential")
QUARANTINABLE = (Risk.HIGH, Risk.MEDIUM, Risk.LOW)  # unscannable always quarantines (fail closed)


@dataclass(frozen=True)
class Thresholds:
    quarantine_risks: tuple[str, ...] = (Risk.HIGH.value, Risk.MEDIUM.value)
    review_sla_hours: float = 4.0
    backlog_limit_minutes: float = 15.0  # oldest unverified item older than this: the Live banner

    def __post_init__(self):
        unknown = set(self.quarantine_risks) - {r.value for r in QUARANTINABLE}
        if unknown:
            raise ValueError(f"not a quarantinable risk: {', '.join(sorted(unknown))}")
        if Risk.HIGH.value not in self.quarantine_risks:
            raise ValueError("high-risk files are always quarantined")
        if not 0 < self.review_sla_hours <= 24 * 14:
            raise ValueError("the review SLA must be between a few minutes and 14 days")
        if not 0 < self.backlog_limit_minutes <= 24 * 60:
            raise ValueError("the backlog limit must be between 1 minute and 24 hours")

    @classmethod
    def from_stored(cls, value: dict, defaults: "Thresholds") -> "Thresholds":
        merged = {**asdict(defaults), **{k: v for k, v in value.items() if k in asdict(defaults)}}
        merged["quarantine_risks"] = tuple(merged["quarantine_risks"])
        return cls(**merged)


def _refuse_secrets(key: str) -> None:
    if any(word in key.lower() for word in SECRET_WORDS):
        raise ValueError(f"{key!r} looks like a secret: secrets belong in .streamlit/secrets.toml")


def update_thresholds(uow: UnitOfWork, *, actor: Actor, thresholds: Thresholds, reason: str = "") -> bool:
    """Store new thresholds; returns False when nothing changed (and then records nothing)."""
    require(actor, Action.SETTINGS_MANAGE)
    _refuse_secrets(THRESHOLDS_KEY)
    value = {**asdict(thresholds), "quarantine_risks": sorted(thresholds.quarantine_risks)}
    with uow:
        row = uow.session.get(AppSetting, THRESHOLDS_KEY)
        before = dict(row.value) if row else None
        if before == value:
            return False
        row = row or AppSetting(key=THRESHOLDS_KEY, value={}, updated_by=actor.id)
        row.value, row.updated_by, row.updated_at = value, actor.id, utcnow()
        uow.session.add(row)
        uow.record(actor, "settings.changed", "app_setting", THRESHOLDS_KEY, before=before, after=value,
                   reason=reason.strip() or None)
        uow.commit()
        return True
