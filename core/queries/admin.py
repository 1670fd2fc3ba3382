"""Reads for the Settings page: thresholds in force, contacts, detectors and their model cards."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from core.adapters.app_settings import thresholds  # noqa: F401 (the Settings page's read, defined there)
from core.adapters.db import Database
from core.domain.thresholds import THRESHOLDS_KEY
from core.models import AppSetting, Contact, HashBankEntry, Signal
from core.queries.sql import distinct_values
from core.settings import DEFAULT_MODELS_DIR


def setting_changed(db: Database, key: str = THRESHOLDS_KEY) -> dict | None:
    with db.reader() as s:
        row = s.get(AppSetting, key)
        return None if row is None else {"updated_by": row.updated_by, "updated_at": row.updated_at}


CONTACT_COLUMNS = ["id", "name", "email", "role", "organisation", "active"]


def list_contacts(db: Database, *, include_inactive: bool = True) -> pd.DataFrame:
    query = select(*[getattr(Contact, c) for c in CONTACT_COLUMNS]).order_by(Contact.role, Contact.name)
    if not include_inactive:
        query = query.where(Contact.active)
    with db.reader() as s:
        rows = s.execute(query).all()
    return pd.DataFrame(rows, columns=CONTACT_COLUMNS)


def detectors_seen(db: Database) -> pd.DataFrame:
    """Each detector that has produced signals, with the version of its latest one."""
    out = []
    with db.reader() as s:
        for name in distinct_values(db, "signal", "name"):
            version, at = s.execute(select(Signal.version, Signal.created_at).where(Signal.name == name)
                                    .order_by(Signal.created_at.desc()).limit(1)).one()
            out.append({"detector": name, "latest_version": version, "last_signal_at": at})
    return pd.DataFrame(out, columns=["detector", "latest_version", "last_signal_at"])


def model_cards(models_dir: Path = DEFAULT_MODELS_DIR) -> list[dict]:
    """Model cards (data/models/<name>/card.json): name, version, threshold, metrics and limits."""
    cards = []
    for path in sorted(models_dir.glob("*/card.json")):
        try:
            card = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            cards.append({"name": path.parent.name, "error": f"unreadable card: {exc}"})
            continue
        metrics = card.get("metrics") or {}
        cards.append({
            "name": str(card.get("name", path.parent.name)), "version": str(card.get("version", "?")),
            "description": str(card.get("description", "")), "task": str(card.get("task", "")),
            "threshold": card.get("threshold"),
            "metrics": pd.DataFrame([{"set": k, **v} for k, v in metrics.items() if isinstance(v, dict)]),
            "limits": [str(x) for x in card.get("limits", [])],
        })
    return cards


def hashbank_sizes(db: Database) -> pd.DataFrame:
    with db.reader() as s:
        rows = s.execute(select(HashBankEntry.bank, func.count()).group_by(HashBankEntry.bank)).all()
    return pd.DataFrame(rows, columns=["bank", "entries"])
