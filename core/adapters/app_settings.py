"""What an admin set in the dashboard, read from the settings table over the installation's defaults:
the thresholds and the detector overrides. Read by the scan policy, the worker and the dashboard."""
from __future__ import annotations

from core.adapters.db import Database
from core.domain.thresholds import DETECTORS_KEY, THRESHOLDS_KEY, Thresholds
from core.models import AppSetting
from core.settings import Settings


def thresholds(db: Database, settings: Settings) -> Thresholds:
    """The thresholds an admin stored, over the installation's defaults."""
    defaults = Thresholds(review_sla_hours=settings.review_sla_hours)
    with db.reader() as s:
        row = s.get(AppSetting, THRESHOLDS_KEY)
    return defaults if row is None else Thresholds.from_stored(row.value, defaults)


def detector_overrides(db: Database) -> dict | None:
    """{detector name: {"enabled": bool, "threshold": float}} as an admin set them, or None."""
    with db.reader() as s:
        row = s.get(AppSetting, DETECTORS_KEY)
    return row.value if row else None
