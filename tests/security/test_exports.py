"""Every CSV the product writes opens in a spreadsheet as data: a text cell never starts with a
character that makes a formula (OWASP CSV injection), numbers stay numbers, and the hash-bank CSV
reads back exactly as it was written."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.adapters.csv_safe import FORMULA_STARTS, frame_to_csv, restore_cell, safe_cell
from core.commands import hashbank
from core.commands.auth import SignInRefused, sign_in
from core.commands.users import create_user
from core.domain.roles import Actor, Role
from core.queries.audit import export_csv
from core.verification.hashbank import BankEntry, read_csv, write_csv

FORMULA_EMAIL = '=HYPERLINK("http://evil","x")@x.com'
AUDITOR = Actor("auditor@example.com", Role.AUDITOR)
LEAD = Actor("lead@example.com", Role.COMPLIANCE_LEAD)


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(rows: list[list[str]]) -> None:
    starts = [cell for row in rows for cell in row if cell[:1] in FORMULA_STARTS]
    assert starts == []


def people(app) -> None:
    for actor in (AUDITOR, LEAD):
        create_user(app.uow(), actor=Actor.system("cli"), email=actor.id, role=actor.role)


def test_a_formula_typed_as_a_sign_in_email_is_text_in_the_audit_csv(any_app):
    people(any_app)
    with pytest.raises(SignInRefused):
        sign_in(any_app.uow(), email=FORMULA_EMAIL, password="not the password at all")
    out = io.StringIO()
    export_csv(any_app.db, actor=AUDITOR, out=out)
    rows = cells(out.getvalue())
    failed = [row for row in rows if row[3] == "auth.sign_in_failed"]
    assert len(failed) == 1 and failed[0][2] == "'" + FORMULA_EMAIL.lower()  # the actor, marked as text
    assert_no_formula(rows)


def test_a_hash_bank_note_and_source_starting_a_formula_are_text_in_the_export(any_app):
    people(any_app)
    hashbank.add_entry(any_app.uow(), actor=LEAD, bank_name="known_synthetic", sha256="ab" * 32,
                       source="@vendor feed", note="=cmd|' /C calc'!A0")
    hashbank.add_entry(any_app.uow(), actor=LEAD, bank_name="known_genuine", phash="0123456789abcdef",
                       source="press office", note="-5 dB noise floor")
    out = io.StringIO()
    assert hashbank.export_csv(any_app.uow(), actor=LEAD, fh=out) == 2
    rows = cells(out.getvalue())
    assert_no_formula(rows)
    assert [row[3:] for row in rows[1:]] == [["'@vendor feed", "'=cmd|' /C calc'!A0"],
                                             ["press office", "'-5 dB noise floor"]]


TRICKY = ["=1+1", "+44 20 7946 0000", "-5 dB", "@SUM(A1)", "\tcmd", "\rcmd", "'=already quoted", "''-x", "'",
          "", "plain, with a comma", 'say "hi"', "line\nbreak"]


def test_a_hash_bank_export_reads_back_exactly():
    entries = [BankEntry(None, "known_synthetic", f"{n:064x}", None, source or "feed", note)
               for n, (source, note) in enumerate(zip(TRICKY, reversed(TRICKY)))]
    out = io.StringIO()
    assert write_csv(entries, out) == len(entries)
    assert_no_formula(cells(out.getvalue()))
    back = read_csv(io.StringIO(out.getvalue()))
    assert [(e.bank, e.sha256, e.phash, e.source, e.note) for e in back] == \
        [(e.bank, e.sha256, e.phash, e.source.strip(), e.note) for e in entries]


def test_the_trends_export_marks_text_and_keeps_negative_numbers_numeric():
    """Shaped like the Trends page's download (pages/trends.py): periods, series names, figures that
    can be negative; the page passes its frame to frame_to_csv."""
    export = pd.DataFrame({"period": pd.to_datetime(["2025-03-01", "2025-03-02"]),
                           "series": ["=HYPERLINK(\"http://evil\")", "false_positive_rate"],
                           "n": [-0.5, 3.0], "count": [-2, 7], "note": [None, "-delta"]})
    rows = cells(frame_to_csv(export))
    assert rows == [["period", "series", "n", "count", "note"],
                    ["2025-03-01", "'=HYPERLINK(\"http://evil\")", "-0.5", "-2", ""],
                    ["2025-03-02", "false_positive_rate", "3.0", "7", "'-delta"]]


@given(st.tuples(st.text(alphabet="'", max_size=3), st.sampled_from(sorted(FORMULA_STARTS) + ["", "a", " "]),
                 st.text()).map("".join))
def test_any_text_is_safe_and_restores_exactly(text):
    cell = safe_cell(text)
    assert cell[:1] not in FORMULA_STARTS
    assert restore_cell(cell) == text


class Formula:
    def __str__(self) -> str:
        return "=1+1"


def test_numbers_stay_numbers_and_other_values_become_safe_text():
    assert [safe_cell(v) for v in (-0.5, -3, None, True)] == [-0.5, -3, None, True]
    assert safe_cell(Formula()) == "'=1+1"
    assert safe_cell({"after": 1}) == "{'after': 1}"
