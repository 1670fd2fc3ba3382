"""`make test` checks the shipped Apex without an org (security/apex.py): every class and trigger parses
with the published Apex grammar, PMD's Apex rules find nothing that security/accepted.toml does not accept
with a reason, and sf_emulator/apex_policy.json holds ResponseDeskPolicy.cls's constants. The fixtures in
tests/security/fixtures/apex show that each gate can fail. Without node, the npm packages (npm ci in
tools/apex) or java, the tests skip with the reason, except in CI, where they must run."""
from __future__ import annotations

import json
import textwrap

import pytest

from security import acceptances, apex
from security.apex import PmdFinding
from tests.apex import require_apex_tools

FIXTURES = "tests/security/fixtures/apex"
GOOD_REASON = "The guard must read the status in system mode; it only ever refuses, never shows a value."


def pmd_entries(toml: str) -> list[acceptances.Acceptance]:
    entries, problems = acceptances.parse_acceptances(textwrap.dedent(toml))
    assert problems == [] and all(e.valid for e in entries), [e.problems for e in entries]
    return entries


def crud_finding(path="salesforce/force-app/main/default/classes/ResponseDeskApprovalGuard.cls",
                 source="for (ContentDocumentLink link : [ SELECT ContentDocumentId FROM ContentDocumentLink "
                        "WHERE LinkedEntityId IN :recordIds ]) {") -> PmdFinding:
    return PmdFinding("ApexCRUDViolation", "Security", path, 81, "Validate CRUD permission", source)


# -- the grammar -----------------------------------------------------------------------------------
def test_every_shipped_class_and_trigger_parses():
    require_apex_tools(java=False)
    shipped = [p for root in apex.APEX_ROOTS for p in (apex.ROOT / root).rglob("*") if p.suffix in (".cls", ".trigger")]
    errors, summary = apex.syntax_errors(*apex.APEX_ROOTS)
    assert errors == []
    assert summary == f"parsed {len(shipped)} Apex files: 0 with syntax errors"
    assert len(shipped) >= 12  # classes, tests and triggers of force-app and kyc-check


def test_broken_apex_is_reported_with_its_file_and_line():
    require_apex_tools(java=False)
    errors, summary = apex.syntax_errors(f"{FIXTURES}/broken")
    assert errors == [f"{FIXTURES}/broken/BrokenGuard.cls:6:48: missing ')' at '{{'"]
    assert summary == "parsed 1 Apex files: 1 with syntax errors"


# -- PMD -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_shipped_apex_passes_every_check():
    require_apex_tools()
    report = apex.run_checks()
    print(report.text())
    assert report.ok, "\n" + report.text()
    assert report.pmd.findings, "PMD found nothing at all: did it scan the shipped classes?"


@pytest.mark.slow
def test_pmd_reports_unsafe_apex_that_no_acceptance_covers():
    require_apex_tools()
    findings, problems = apex.pmd_findings(f"{FIXTURES}/unsafe")
    assert problems == []
    assert {(f.rule, f.line) for f in findings} >= {("ApexSOQLInjection", 5), ("ApexSharingViolations", 3)}
    entries, _ = acceptances.load_acceptances()
    section = acceptances.reconcile("pmd", findings, [e for e in entries if e.kind == "pmd"])
    assert section.unaccepted == findings


@pytest.mark.slow
def test_pmd_fails_on_apex_it_cannot_parse():
    require_apex_tools()
    findings, problems = apex.pmd_findings(f"{FIXTURES}/broken")
    assert findings == []
    assert any("BrokenGuard.cls" in p and "6:47" in p for p in problems), problems


def test_a_pmd_acceptance_matches_rule_path_and_statement():
    [exact, glob, other_rule] = pmd_entries(f'''
        [[pmd]]
        rule = "ApexCRUDViolation"
        path = "salesforce/force-app/main/default/classes/ResponseDeskApprovalGuard.cls"
        match = "FROM ContentDocumentLink   WHERE LinkedEntityId IN :recordIds"
        reason = "{GOOD_REASON}"

        [[pmd]]
        rule = "ApexCRUDViolation"
        path = "salesforce/*Guard*.cls"
        reason = "{GOOD_REASON}"

        [[pmd]]
        rule = "ApexSOQLInjection"
        path = "salesforce/*Guard*.cls"
        reason = "{GOOD_REASON}"
    ''')
    finding = crud_finding()
    assert exact.matches(finding) and glob.matches(finding) and not other_rule.matches(finding)
    assert not exact.matches(crud_finding(source="for (ContentVersion v : [ SELECT Id FROM ContentVersion ]) {"))
    assert not exact.matches(crud_finding(path="salesforce/force-app/main/default/classes/Other.cls"))
    section = acceptances.reconcile("pmd", [finding], [exact, other_rule])
    assert section.unaccepted == [] and section.stale == [other_rule]


def test_a_pmd_acceptance_needs_a_reason_of_substance():
    entries, problems = acceptances.parse_acceptances(textwrap.dedent('''
        [[pmd]]
        rule = "ApexCRUDViolation"
        path = "salesforce/*.cls"
        reason = "false positive"
    '''))
    [entry] = entries
    assert problems == [] and not entry.valid and not entry.matches(crud_finding())


# -- the emulator's copy of the policy -------------------------------------------------------------
def test_the_emulator_reads_the_policy_the_apex_declares():
    require_apex_tools(java=False)
    declared = apex.policy_constants()
    assert json.loads(apex.POLICY_JSON.read_text(encoding="utf-8")) == declared, "run make apex-policy"
    assert set(declared["HELD"]) == {"Quarantined", "In review", "Confirmed synthetic", "Unscannable"}
