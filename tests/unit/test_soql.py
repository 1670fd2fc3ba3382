"""The SOQL parser: the subset the product issues, and Salesforce's errors for the rest."""
import pytest

from sf_emulator.errors import SalesforceError
from sf_emulator.soql import BoolOp, Comparison, Not, parse


def test_select_list_with_relationship_fields_and_clauses():
    query = parse("SELECT Id, ContentDocument.Title FROM ContentVersion WHERE IsLatest = true "
                  "ORDER BY SystemModstamp ASC, Id DESC NULLS FIRST LIMIT 200 OFFSET 10")
    assert [f.dotted for f in query.fields] == ["Id", "ContentDocument.Title"]
    assert query.sobject == "ContentVersion"
    assert [(o.field.dotted, o.descending, o.nulls_last) for o in query.order_by] == [
        ("SystemModstamp", False, False), ("Id", True, False)]
    assert (query.limit, query.offset) == (200, 10)


def test_keywords_are_case_insensitive():
    query = parse("select id from account where name like 'Acme%' order by name desc limit 5")
    assert query.where.op == "LIKE" and query.order_by[0].descending and query.limit == 5


def test_and_binds_tighter_than_or_and_parentheses_group():
    where = parse("SELECT Id FROM Contact WHERE A__c = 1 OR B__c = 2 AND (C__c = 3 OR NOT D__c = 4)").where
    assert isinstance(where, BoolOp) and where.op == "OR"
    right = where.parts[1]
    assert right.op == "AND" and right.parts[1].op == "OR" and isinstance(right.parts[1].parts[1], Not)


@pytest.mark.parametrize("literal, kind", [
    ("2026-11-29T10:00:00Z", "datetime"), ("2026-11-29T10:00:00.000+0000", "datetime"),
    ("2026-11-29T10:00:00+01:00", "datetime"), ("2026-11-29", "date"), ("'it''s'", None), ("42", "number"),
    ("-1.5", "number"), ("TRUE", "boolean"), ("null", "null"), ("LAST_N_DAYS:7", "dateliteral"),
])
def test_literal_kinds(literal, kind):
    if kind is None:
        with pytest.raises(SalesforceError):
            parse(f"SELECT Id FROM Account WHERE Name = {literal}")
        return
    assert parse(f"SELECT Id FROM Account WHERE X__c = {literal}").where.value.kind == kind


def test_string_escapes_are_unquoted():
    assert parse(r"SELECT Id FROM Account WHERE Name = 'O\'Brien \\ Co'").where.value.value == "O'Brien \\ Co"


def test_in_and_not_in_lists():
    where = parse("SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId IN ('069A', '069B') "
                  "AND LinkedEntityId NOT IN ('005X')").where
    first, second = where.parts
    assert isinstance(first, Comparison) and first.op == "IN" and [v.value for v in first.value] == ["069A", "069B"]
    assert second.op == "NOT IN"


def test_count_forms():
    assert parse("SELECT COUNT() FROM Account").count is True
    assert parse("SELECT COUNT(Id) FROM Account").count.dotted == "Id"


@pytest.mark.parametrize("text, column", [
    ("SELECT Id FROM Account WHERE", 29),
    ("SELECT FROM Account", 8),
    ("SELECT Id Account", 11),
    ("SELECT Id FROM Account LIMIT x", 30),
    ("SELECT Id FROM Account WHERE Name = 'a' ORDER Name", 47),
])
def test_malformed_queries_point_at_the_offending_column(text, column):
    with pytest.raises(SalesforceError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}" in caught.value.message


def test_two_relationship_levels_are_refused():
    with pytest.raises(SalesforceError):
        parse("SELECT ContentDocument.Owner.Name FROM ContentVersion")
