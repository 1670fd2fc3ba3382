"""Recursive-descent parsing of SOQL tokens into the `soql` syntax tree."""
from __future__ import annotations

from .soql import (
    DATE_LITERALS,
    KEYWORDS,
    BoolOp,
    Comparison,
    FieldRef,
    Literal,
    Not,
    OrderItem,
    Query,
    Token,
    error_at,
    unquote,
)

_COMPARATORS = {"=", "!=", "<>", "<", ">", "<=", ">="}


class Parser:
    def __init__(self, text: str, tokens: list[Token]):
        self.text = text
        self.tokens = tokens
        self.i = 0

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.text.upper() in words

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.unexpected()
        return self.take()

    def expect(self, text: str) -> Token:
        if self.tok.text != text:
            raise self.unexpected()
        return self.take()

    def unexpected(self) -> Exception:
        return error_at(self.text, self.tok.pos, f"unexpected token: '{self.tok.text}'")

    # grammar
    def query(self) -> Query:
        self.expect_kw("SELECT")
        fields, count = self.select_list()
        self.expect_kw("FROM")
        if self.tok.kind != "name" or self.tok.text.upper() in KEYWORDS or "." in self.tok.text:
            raise self.unexpected()
        target = self.take()
        query = Query(self.text, target.text, target.pos, fields, count)
        if self.is_kw("WHERE"):
            self.take()
            query.where = self.condition()
        if self.is_kw("ORDER"):
            self.take()
            self.expect_kw("BY")
            query.order_by = self.order_list()
        if self.is_kw("LIMIT"):
            self.take()
            query.limit = self.integer()
        if self.is_kw("OFFSET"):
            self.take()
            query.offset = self.integer()
        if self.tok.kind != "eof":
            raise self.unexpected()
        return query

    def select_list(self) -> tuple[list[FieldRef], object]:
        if self.is_kw("COUNT") and self.tokens[self.i + 1].text == "(":
            self.take()
            self.take()
            counted = None if self.tok.text == ")" else self.field_ref()
            self.expect(")")
            return [], counted or True
        fields = [self.field_ref()]
        while self.tok.text == ",":
            self.take()
            fields.append(self.field_ref())
        return fields, None

    def field_ref(self) -> FieldRef:
        if self.tok.kind != "name" or self.tok.text.upper() in KEYWORDS:
            raise self.unexpected()
        token = self.take()
        path = tuple(token.text.split("."))
        if len(path) > 2:
            raise error_at(self.text, token.pos, f"unexpected token: '{token.text}' (one relationship level)")
        return FieldRef(path, token.pos)

    def integer(self) -> int:
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            raise self.unexpected()
        return int(self.take().text)

    def condition(self):
        parts = [self.conjunction()]
        while self.is_kw("OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def conjunction(self):
        parts = [self.negation()]
        while self.is_kw("AND"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def negation(self):
        if self.is_kw("NOT"):
            self.take()
            return Not(self.negation())
        if self.tok.text == "(":
            self.take()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        ref = self.field_ref()
        if self.tok.kind == "op" and self.tok.text in _COMPARATORS:
            op = self.take().text
            return Comparison(ref, "!=" if op == "<>" else op, self.literal())
        negated = False
        if self.is_kw("NOT"):
            self.take()
            negated = True
        if self.is_kw("IN"):
            self.take()
            return Comparison(ref, "NOT IN" if negated else "IN", self.literal_list())
        if self.is_kw("LIKE") and not negated:
            self.take()
            return Comparison(ref, "LIKE", self.literal())
        raise self.unexpected()

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        values = [self.literal()]
        while self.tok.text == ",":
            self.take()
            values.append(self.literal())
        self.expect(")")
        return tuple(values)

    def literal(self) -> Literal:
        token = self.tok
        upper = token.text.upper()
        if token.kind == "string":
            value = Literal("string", unquote(token.text), token.pos)
        elif token.kind in ("datetime", "date"):
            value = Literal(token.kind, token.text, token.pos)
        elif token.kind == "number":
            value = Literal("number", float(token.text), token.pos)
        elif token.kind == "name" and upper in ("TRUE", "FALSE"):
            value = Literal("boolean", upper == "TRUE", token.pos)
        elif token.kind == "name" and upper == "NULL":
            value = Literal("null", None, token.pos)
        elif (token.kind == "name" and upper in DATE_LITERALS) or (
                token.kind == "dateliteral" and upper.startswith(("LAST_N_DAYS:", "NEXT_N_DAYS:"))):
            value = Literal("dateliteral", upper, token.pos)
        else:
            raise self.unexpected()
        self.take()
        return value

    def order_list(self) -> list[OrderItem]:
        items = []
        while True:
            ref = self.field_ref()
            descending = False
            if self.is_kw("ASC", "DESC"):
                descending = self.take().text.upper() == "DESC"
            nulls_last = descending
            if self.is_kw("NULLS"):
                self.take()
                if not self.is_kw("FIRST", "LAST"):
                    raise self.unexpected()
                nulls_last = self.take().text.upper() == "LAST"
            items.append(OrderItem(ref, descending, nulls_last))
            if self.tok.text != ",":
                return items
            self.take()
