"""How SOQL compares a stored value with a literal, and how it orders values."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from .clock import parse_date, parse_datetime
from .ids import looks_like_id, to_18
from .soql import Literal


def matches(value: object, op: str, literal, *, is_id: bool, today: datetime) -> bool:
    if op in ("IN", "NOT IN"):
        found = any(_equal(value, item, is_id, today) for item in literal)
        return found if op == "IN" else not found
    if op == "LIKE":
        return isinstance(value, str) and _like(literal.value).match(value) is not None
    if op == "=":
        return _equal(value, literal, is_id, today)
    if op == "!=":
        return not _equal(value, literal, is_id, today)
    if value is None or literal.kind == "null":
        return False
    left, right = _typed(value, literal, is_id, today)
    if left is None or right is None:
        return False
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False


def _equal(value: object, literal: Literal, is_id: bool, today: datetime) -> bool:
    if literal.kind == "null" or value is None:
        return literal.kind == "null" and value is None
    if literal.kind == "dateliteral":
        start, end = _date_range(literal.value, today)
        day = _as_date(value)
        return day is not None and start <= day < end
    left, right = _typed(value, literal, is_id, today)
    return left is not None and left == right


def _typed(value: object, literal: Literal, is_id: bool, today: datetime) -> tuple[object, object]:
    kind = literal.kind
    if kind == "datetime":
        return (parse_datetime(value) if isinstance(value, str) else None), parse_datetime(literal.value)
    if kind == "date":
        return _as_date(value), parse_date(literal.value)
    if kind == "dateliteral":
        return _as_date(value), _date_range(literal.value, today)[0]
    if kind == "number":
        return (float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None), literal.value
    if kind == "boolean":
        return (value if isinstance(value, bool) else None), literal.value
    if is_id and looks_like_id(value) and looks_like_id(literal.value):
        return to_18(value), to_18(literal.value)
    return (value.casefold() if isinstance(value, str) else None), str(literal.value).casefold()


def _as_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    moment = parse_datetime(value)
    return moment.date() if moment else parse_date(value)


def _date_range(name: str, today: datetime) -> tuple[date, date]:
    day = today.date()
    if name == "TODAY":
        return day, day + timedelta(days=1)
    if name == "YESTERDAY":
        return day - timedelta(days=1), day
    if name == "TOMORROW":
        return day + timedelta(days=1), day + timedelta(days=2)
    count = int(name.split(":")[1])
    if name.startswith("LAST_N_DAYS"):
        return day - timedelta(days=count), day + timedelta(days=1)
    return day + timedelta(days=1), day + timedelta(days=count + 1)


def _like(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        i += 1
    return re.compile(f"^{out}$", re.IGNORECASE | re.DOTALL)


def sort_key(value: object, is_id: bool) -> tuple[int, object]:
    if isinstance(value, bool):
        return 0, value
    if isinstance(value, (int, float)):
        return 1, value
    if isinstance(value, str):
        moment = None if is_id else parse_datetime(value)
        if moment:
            return 2, moment
        return 3, value if is_id else value.casefold()
    return 4, str(value)


def compare_sort(a: object, b: object, *, descending: bool, nulls_last: bool, is_id: bool) -> int:
    """-1, 0 or 1 as ORDER BY places a before b; nulls go first or last whatever the direction."""
    if a is None or b is None:
        if a is None and b is None:
            return 0
        return (1 if nulls_last else -1) * (1 if a is None else -1)
    ka, kb = sort_key(a, is_id), sort_key(b, is_id)
    result = (ka > kb) - (ka < kb)
    return -result if descending else result
