"""Thresholds an admin changes in the dashboard, kept in `app_setting` and audited.

Only operating thresholds live here, never secrets: keys that look like credentials are refused,
so a secret can never end up in the database or the audit trail by way of this page."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from core.adapters.uow import UnitOfWork
from core.clock import utcnow
from core.domain.audit_actions import AuditAction
from core.domain.roles import Action, Actor
from core.domain.thresholds import DETECTORS_KEY, THRESHOLDS_KEY, Thresholds
from core.models import AppSetting

SECRET_WORDS = ("secret", "password", "token", "key", "credential")


def _refuse_secrets(key: str) -> None:
    if any(word in key.lower() for word in SECRET_WORDS):
        raise ValueError(f"{key!r} looks like a secret: secrets belong in .streamlit/secrets.toml")


def update_thresholds(uow: UnitOfWork, *, actor: Actor, thresholds: Thresholds, reason: str = "") -> bool:
    """Store new thresholds; returns False when nothing changed (and then records nothing)."""
    _refuse_secrets(THRESHOLDS_KEY)
    value = {**asdict(thresholds), "quarantine_risks": sorted(thresholds.quarantine_risks)}
    with uow:
        actor = uow.authorize(actor, Action.SETTINGS_MANAGE)
        return _store(uow, actor, THRESHOLDS_KEY, value, reason)


def update_detectors(uow: UnitOfWork, *, actor: Actor, overrides: Mapping[str, Mapping[str, Any]],
                     reason: str = "") -> bool:
    """Turn detectors on or off and re-threshold models: {name: {"enabled": bool, "threshold": float}},
    for every detector an admin departs from the defaults on (a name left out goes back to them).
    Scanners apply it within their policy's refresh (core/verification/policy.py), with no restart.
    Returns False when nothing changed (and then records nothing)."""
    _refuse_secrets(DETECTORS_KEY)
    value = _checked_overrides(overrides)
    with uow:
        actor = uow.authorize(actor, Action.SETTINGS_MANAGE)
        return _store(uow, actor, DETECTORS_KEY, value, reason)


def _checked_overrides(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    from core.verification.setup import engine_config

    known = engine_config().detectors
    checked: dict[str, dict[str, Any]] = {}
    for name, chosen in sorted(overrides.items()):
        if name not in known:
            raise ValueError(f"no detector named {name!r}; this installation has {', '.join(sorted(known))}")
        unknown = set(chosen) - {"enabled", "threshold"}
        if unknown:
            raise ValueError(f"{name}: only 'enabled' and 'threshold' can be set, not {', '.join(sorted(unknown))}")
        if "threshold" in chosen and known[name].factory is None:
            raise ValueError(f"{name} has no score to set a threshold on")
        if "threshold" in chosen and not 0 < float(chosen["threshold"]) < 1:
            raise ValueError(f"{name}: a threshold is a probability between 0 and 1")
        checked[name] = {**({"enabled": bool(chosen["enabled"])} if "enabled" in chosen else {}),
                         **({"threshold": float(chosen["threshold"])} if "threshold" in chosen else {})}
    return checked


def _store(uow: UnitOfWork, actor: Actor, key: str, value: dict[str, Any], reason: str) -> bool:
    """Write one setting and its audit event, inside the caller's authorised unit of work."""
    row = uow.session.get(AppSetting, key)
    before = dict(row.value) if row else None
    if before == value:
        return False
    row = row or AppSetting(key=key, value={}, updated_by=actor.id)
    row.value, row.updated_by, row.updated_at = value, actor.id, utcnow()
    uow.session.add(row)
    uow.record(actor, AuditAction.SETTINGS_CHANGED, "app_setting", key, before=before, after=value,
               reason=reason.strip() or None)
    uow.commit()
    return True
