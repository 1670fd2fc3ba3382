"""How the console writes what people read, in one place: times (relative, in the reader's time zone,
UTC on hover), durations, empty values, the domain's labels, tables with worded columns, key-value
lists. Everything shown here is plain text: nothing from a file, Salesforce or a person becomes markup."""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

EMPTY = "—"  # what a missing value reads as, everywhere (never "None", "nan" or "NaT")


def is_empty(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text(value) -> str:
    return EMPTY if is_empty(value) else str(value)


# -- times ----------------------------------------------------------------------------------------
def zone_name() -> str:
    """The reader's time zone as the browser reports it; UTC where it reports none."""
    name = st.context.timezone
    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime | None) -> str:
    return EMPTY if is_empty(moment) else f"{_aware(moment).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def local(moment: datetime | None) -> str:
    """The moment in the reader's time zone: '30 Nov 2026, 11:28 CET'."""
    if is_empty(moment):
        return EMPTY
    return _aware(moment).astimezone(ZoneInfo(zone_name())).strftime("%-d %b %Y, %H:%M %Z")


def duration(seconds: float | None) -> str:
    if is_empty(seconds):
        return EMPTY
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 4 * 86400:  # hours up to four days: regulatory periods are set in hours (72 h)
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'12 min ago', 'in 3 h 5 min', 'just now'."""
    if is_empty(moment):
        return EMPTY
    delta = ((now or datetime.now(UTC)) - _aware(moment)).total_seconds()
    if abs(delta) < 30:
        return "just now"
    return f"{duration(delta)} ago" if delta > 0 else f"in {duration(delta)}"


def remaining(seconds: float | None) -> str:
    """A clock's time left: '5 h 2 min left' or '3 h late'."""
    if is_empty(seconds):
        return EMPTY
    return f"{duration(seconds)} left" if seconds >= 0 else f"{duration(seconds)} late"


def moment(label: str, value: datetime | None, *, container=st) -> None:
    """'**Label:** 12 min ago (30 Nov 2026, 11:28 CET)' with the UTC time on hover."""
    if is_empty(value):
        container.markdown(f"**{label}:** not recorded")
    else:
        container.markdown(f"**{label}:** {ago(value)} ({local(value)})", help=utc(value))


# -- labels ---------------------------------------------------------------------------------------
def label(kind: Callable, value) -> str:
    """A domain value in words through its enum's `.label` (ItemState, Risk, MessageStatus...);
    a value the enum does not know is shown as it is."""
    if is_empty(value):
        return EMPTY
    try:
        return kind(value).label
    except ValueError:
        return str(value)


def record_type(api_name) -> str:
    """A Salesforce object's API name as people say it: 'KYC_Check__c' reads 'KYC Check'."""
    return EMPTY if is_empty(api_name) else str(api_name).removesuffix("__c").replace("_", " ")


ACRONYMS = {"dpo": "DPO", "sla": "SLA", "api": "API", "kyc": "KYC", "md5": "MD5", "id": "id", "sha256": "SHA-256",
            "c2pa": "C2PA", "url": "URL", "oncall": "on call"}


def words(code) -> str:
    """A code with no enum of its own ('source_object', 'dpo') as words ('Source object', 'DPO')."""
    if is_empty(code):
        return EMPTY
    said = " ".join(ACRONYMS.get(w, w) for w in str(code).replace("_", " ").split())
    return said[:1].upper() + said[1:]


# -- tables ---------------------------------------------------------------------------------------
TIME = "time"  # a column spec: a datetime shown relative, in the reader's time zone


def _column(name: str, spec) -> object:
    title, kind = (spec, None) if isinstance(spec, str) else spec
    if kind == TIME:
        return st.column_config.DatetimeColumn(
            title, format="distance", timezone=zone_name(),
            help=f"How long ago, in your time zone ({zone_name()}). Exact UTC times are in the table's download.")
    if kind is not None:
        return kind
    return st.column_config.Column(title)


def table(frame: pd.DataFrame, columns: Mapping[str, object], *, labels: Mapping[str, Callable] | None = None,
          **kwargs):
    """A dataframe with only `columns`, in that order, each titled in words. A spec is a title, or
    (title, TIME) for a time, or (title, a column_config). `labels` maps a column to a function
    that words its values (format.label of an enum, finding...). Missing values read as EMPTY."""
    shown = frame.copy()
    for name, fn in (labels or {}).items():
        if name in shown:
            shown[name] = shown[name].map(lambda v, fn=fn: EMPTY if is_empty(v) else fn(v))
    for name, spec in columns.items():
        if not isinstance(spec, str) and spec[1] == TIME and name in shown:
            shown[name] = pd.to_datetime(shown[name], utc=True)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(shown, column_order=[c for c in columns if c in shown],
                        column_config={name: _column(name, spec) for name, spec in columns.items()},
                        placeholder=EMPTY, **kwargs)


# The detectors' numbers, as the item view and Check a file show them: a score bar, then the finding.
SIGNAL_COLUMNS = {
    "name": ("Detector", st.column_config.TextColumn("Detector", width="medium")),
    "score": ("Score", st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.2f",
                                                       width="small", help="0 = genuine, 1 = synthetic")),
    "label": ("Finding", st.column_config.TextColumn("Finding", width="large")),
    "version": ("Version", st.column_config.TextColumn("Version", width="small")),
}


def fields(pairs: Mapping[str, object], *, key: str | None = None) -> None:
    """A readable key-value list (a two-column table of text): what a record says, field by field."""
    rows = [{"field": str(k), "value": value_text(v)} for k, v in pairs.items()]
    st.dataframe(pd.DataFrame(rows, columns=["field", "value"]), hide_index=True, width="stretch", key=key,
                 column_config={"field": st.column_config.TextColumn("Field", width="small"),
                                "value": st.column_config.TextColumn("Value", width="large")})


def value_text(value) -> str:
    if isinstance(value, datetime):
        return f"{ago(value)} ({utc(value)})"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False) if value else EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    return text(value)


def details(mapping) -> str:
    """A record's fields on one line, readably: 'State: quarantined; Risk: high; Assignee: —'."""
    if not isinstance(mapping, Mapping) or not mapping:
        return text(mapping) if not isinstance(mapping, Mapping) else EMPTY
    return "; ".join(f"{words(k)}: {_inline(v)}" for k, v in mapping.items())


def _inline(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_inline(v) for v in value) or EMPTY
    if isinstance(value, Mapping):
        return "{" + details(value) + "}"
    return value_text(value)


OBJECTS = {"media_item": "Item", "communication": "Message", "hash_bank_entry": "Hash bank entry", "user": "Account"}


def about(object_type, object_id) -> str:
    """What an audit event is about: 'Item 12', 'Message 3', 'Incident 1'."""
    return f"{OBJECTS.get(object_type, words(object_type))} {text(object_id)}"


def raw(data, title: str = "Raw data (JSON)") -> None:
    """The exact data behind a readable list, for those who need it, behind an expander."""
    with st.expander(title):
        st.json(data, expanded=True)
