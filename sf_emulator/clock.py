"""Time as Salesforce records it: UTC, whole seconds, rendered as 2026-11-29T10:00:00.000+0000."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_datetime(text: str) -> datetime | None:
    """Both SOQL literal forms (…Z, …+00:00) and the response form (….000+0000); None when not a datetime."""
    match = _DATETIME.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0").ljust(6, "0"))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                      tzinfo=UTC)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        moment -= timedelta(minutes=offset)
    return moment


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        return None
