"""`make test` runs the security check of the code (security/check.py: bandit, and the pins' agreement)
and fails on any finding that security/accepted.toml does not accept with a reason, and on stale or
reason-less acceptances. It reads only the working tree, so a commit gets the same answer on any day.
The other tests pin down the matching rules, so that this gate can fail. The dependency audit, an
outside-world check (`make audit`), is tested on recorded answers in test_dependency_audit.py."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from security import acceptances, check, pins
from security.check import BanditFinding

GOOD_REASON = "Full-jitter retry backoff, not a secret: predictability of the delay is harmless here."


def parse(toml: str) -> list[acceptances.Acceptance]:
    entries, problems = acceptances.parse_acceptances(textwrap.dedent(toml))
    assert problems == []
    return entries


def bandit_finding(test="B311", path="core/services/outbox.py", source="delay = rng.uniform(0, cap)",
                   issue="Standard pseudo-random generators are not suitable for security purposes.") -> BanditFinding:
    return BanditFinding(test, path, 12, "LOW", "HIGH", issue, source)


# -- the real scan ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_shipped_code_has_no_unaccepted_findings():
    report = check.run_checks()
    print(report.text())
    assert report.ok, "\n" + report.text()


def test_acceptance_file_is_valid():
    entries, problems = acceptances.load_acceptances()
    assert acceptances.invalid_entries(entries, problems) == []
    assert "bandit" in {e.kind for e in entries}


def test_the_code_check_cannot_reach_the_network():
    # The check's answer must depend on the commit only: no HTTP client, no dependency audit.
    probe = "import sys, security.check; print(sorted({'requests', 'urllib3', 'security.audit'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=check.ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_bandit_reports_a_new_finding_in_real_code(tmp_path):
    (tmp_path / "mod.py").write_text("import json\n\n\ndef load(blob):\n    return pickle.loads(\n        blob)\n")
    findings, errors = check.run_bandit(root=tmp_path, targets=["mod.py"])
    assert errors == []
    [finding] = [f for f in findings if f.test == "B301"]
    assert finding.path == "mod.py" and finding.source == "return pickle.loads( blob)"
    section = acceptances.reconcile("bandit", findings, [])
    assert finding in section.unaccepted


def test_bandit_ignores_nosec_comments(tmp_path):
    (tmp_path / "mod.py").write_text("import pickle  # nosec\n")
    findings, _ = check.run_bandit(root=tmp_path, targets=["mod.py"])
    assert [f.test for f in findings] == ["B403"]


# -- matching bandit findings ----------------------------------------------------------------------
def test_a_bandit_finding_not_in_the_acceptances_is_reported():
    entries = parse(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
    ''')
    accepted = bandit_finding()
    new = bandit_finding(test="B301", path="core/services/ingest.py", source="data = pickle.loads(blob)",
                         issue="Pickle can be unsafe")
    section = acceptances.reconcile("bandit", [accepted, new], entries)
    assert section.unaccepted == [new]
    assert [f for f, _ in section.accepted] == [accepted]
    report = check.Report([section])
    assert not report.ok and "NOT ACCEPTED: B301 core/services/ingest.py:12" in report.text()


@pytest.mark.parametrize("finding", [
    bandit_finding(test="B105"),                                   # another test id
    bandit_finding(path="core/services/relay.py"),                 # another file
    bandit_finding(source="delay = random.random() * cap"),         # another statement
])
def test_bandit_acceptance_needs_test_path_and_source_to_match(finding):
    entries = parse(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
    ''')
    section = acceptances.reconcile("bandit", [finding], entries)
    assert section.unaccepted == [finding] and section.stale == entries


def test_issue_tells_apart_findings_in_one_statement():
    source = '"client_secret": "SF_CLIENT_SECRET", "api_key": "hunter2"'
    entries = parse('''
        [[bandit]]
        test = "B105"
        path = "core/settings.py"
        match = '"client_secret": "SF_CLIENT_SECRET"'
        issue = "'SF_CLIENT_SECRET'"
        reason = "An environment variable NAME, not a secret value: no credential is in the code."
    ''')
    named = bandit_finding("B105", "core/settings.py", source, "Possible hardcoded password: 'SF_CLIENT_SECRET'")
    real = bandit_finding("B105", "core/settings.py", source, "Possible hardcoded password: 'hunter2'")
    section = acceptances.reconcile("bandit", [named, real], entries)
    assert section.unaccepted == [real]


# -- the acceptance file itself --------------------------------------------------------------------
@pytest.mark.parametrize("reason_line", ['reason = ""', 'reason = "   "', "", 'reason = "TODO"',
                                         'reason = "false positive"', 'reason = "not a real issue"'])
def test_an_acceptance_without_a_real_reason_is_rejected(reason_line):
    entries, problems = acceptances.parse_acceptances(textwrap.dedent(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        {reason_line}
    '''))
    [entry] = entries
    assert not entry.valid and "reason" in "; ".join(entry.problems)
    finding = bandit_finding()
    section = acceptances.reconcile("bandit", [finding], entries)
    assert section.unaccepted == [finding]  # an invalid entry accepts nothing


def test_unknown_keys_and_tables_are_rejected():
    entries, problems = acceptances.parse_acceptances(textwrap.dedent(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reasn = "{GOOD_REASON}"
        [[dependancy]]
        package = "numpy"
    '''))
    assert problems and "dependancy" in problems[0]
    assert any("unknown key 'reasn'" in p for p in entries[0].problems)


def test_a_stale_bandit_acceptance_fails_the_check():
    entries = parse(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
    ''')
    bandit = acceptances.reconcile("bandit", [], entries)
    assert bandit.stale == entries
    report = check.Report([bandit])
    assert not report.ok and "STALE ACCEPTANCE" in report.text()


@pytest.mark.slow
def test_an_invalid_dependency_entry_fails_the_code_check(tmp_path):
    # Its validity is a property of the file, so the hermetic check judges it, not only `make audit`.
    accepted = tmp_path / "accepted.toml"
    invalid = '\n[[dependency]]\npackage = "jinja2"\nid = "CVE-2024-22195"\nreason = "TODO"\n'
    accepted.write_text(check.ACCEPTED.read_text() + invalid)
    report = check.run_checks(accepted=accepted)
    assert not report.ok and report.invalid == [
        "[[dependency]] #1 jinja2 id=CVE-2024-22195: reason 'TODO' is a placeholder, not a reason"]


def test_requirements_must_be_covered_by_constraints(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==2.4.6\npillow_heif==1.8.1\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nnumpy==2.5.0\nrequests==2.34.2\nflask>=3\n")
    problems = pins.pin_problems(constraints, [requirements])
    assert len([p for p in problems if "constraints.txt" in p]) == 2
    assert any("'flask>=3' is not an exact pin" in p for p in problems)
