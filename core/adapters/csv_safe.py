"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Every CSV the product writes goes through `write_rows` or `frame_to_csv`. A text cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return (after any single quotes) gets one single quote in
front, which spreadsheets read as "this is text": a sign-in email typed as `=HYPERLINK(...)` stays
text in the audit export. Numbers are left as numbers: -0.5 in a figures export is a value to sum,
and a cell that holds a number cannot hold a formula.

`restore_cell` undoes `safe_cell` exactly, for the CSVs the product reads back (hash banks): it drops
one leading quote only where `safe_cell` would have added one, and `safe_cell` also quotes text that
already starts with quotes before a dangerous character, so every text survives a round trip.
"""
from __future__ import annotations

import csv
import numbers
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = frozenset("=+-@\t\r")
TEXT_MARK = "'"


def _looks_like_formula(text: str) -> bool:
    return text.lstrip(TEXT_MARK)[:1] in FORMULA_STARTS


def safe_cell(value: Any) -> Any:
    """The cell as a spreadsheet should show it: numbers and None unchanged, anything else as text,
    with a leading single quote when it would start a formula."""
    if value is None or isinstance(value, numbers.Number):
        return value
    text = str(value)
    return TEXT_MARK + text if _looks_like_formula(text) else text


def restore_cell(text: str) -> str:
    """The text as it was before `safe_cell`."""
    return text[1:] if text.startswith(TEXT_MARK) and _looks_like_formula(text) else text


def write_rows(fh: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    """A header and rows as CSV with every cell made safe; returns the number of rows written."""
    writer = csv.writer(fh)
    writer.writerow([safe_cell(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    return count


def frame_to_csv(frame) -> str:
    """A DataFrame as CSV text (no index) with text cells made safe. Numeric, boolean and date
    columns keep their type and pandas' formatting; every other column is text."""
    from pandas.api import types

    safe = frame.copy()
    for column in safe.columns:
        dtype = safe[column].dtype
        if not (types.is_numeric_dtype(dtype) or types.is_bool_dtype(dtype) or types.is_datetime64_any_dtype(dtype)):
            safe[column] = safe[column].map(safe_cell, na_action="ignore")
    safe.columns = [safe_cell(name) for name in safe.columns]
    return safe.to_csv(index=False)
