"""A parser for the SOQL subset the product issues, with Salesforce's MALFORMED_QUERY messages.

SELECT fields | COUNT() | COUNT(field) FROM object [WHERE condition]
[ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
Conditions: AND, OR, NOT, parentheses, = != <> < > <= >=, [NOT] IN (...), LIKE; literals: 'strings',
numbers, TRUE/FALSE, NULL, datetimes (2026-11-29T10:00:00Z, …00.000+0000), dates, TODAY, LAST_N_DAYS:n.
Fields may follow one relationship: ContentDocument.Title.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import SalesforceError

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<dateliteral>[A-Za-z_]+:\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
            "%": "\\%", "_": "\\_"}
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
            "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "GROUP", "HAVING"}
DATE_LITERALS = {"TODAY", "YESTERDAY", "TOMORROW"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]
    pos: int

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, boolean, null, datetime, date, dateliteral
    value: object
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND / OR
    parts: tuple


@dataclass(frozen=True)
class Not:
    expr: object


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    text: str
    sobject: str
    sobject_pos: int
    fields: list[FieldRef] = field(default_factory=list)
    count: FieldRef | bool | None = None  # True for COUNT(), a FieldRef for COUNT(field)
    where: object = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def error_at(text: str, pos: int, message: str, code: str = "MALFORMED_QUERY") -> SalesforceError:
    """Salesforce echoes the query, points a caret at the column and names row and column."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line = text.splitlines()[row - 1] if text else ""
    column = pos - line_start + 1
    return SalesforceError(400, code, f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}")


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise error_at(text, pos, f"unexpected token: '{text[pos:].split()[0]}'")
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def unquote(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), literal[1:-1])


def parse(text: str) -> Query:
    from .soql_parser import Parser

    return Parser(text, tokenize(text)).query()
