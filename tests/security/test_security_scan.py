"""`make test` runs the security linter and the dependency audit (security/check.py) and fails on any
finding that security/accepted.toml does not accept with a reason, and on stale or reason-less
acceptances. The other tests pin down the matching rules, so that this gate can fail."""
from __future__ import annotations

import textwrap

import pytest
import requests

from security import check
from security.check import BanditFinding, DependencyFinding, NOT_AUDITED

GOOD_REASON = "Full-jitter retry backoff, not a secret: predictability of the delay is harmless here."


def acceptances(toml: str) -> list[check.Acceptance]:
    entries, problems = check.parse_acceptances(textwrap.dedent(toml))
    assert problems == []
    return entries


def bandit_finding(test="B311", path="core/services/outbox.py", source="delay = rng.uniform(0, cap)",
                   issue="Standard pseudo-random generators are not suitable for security purposes.") -> BanditFinding:
    return BanditFinding(test, path, 12, "LOW", "HIGH", issue, source)


# -- the real scan ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_code_and_pins_have_no_unaccepted_findings():
    report = check.run_checks()  # honours RD_SECURITY_OFFLINE=1 (dependency half skipped); never set here
    print(report.text())
    assert report.ok, "\n" + report.text()


def test_acceptance_file_is_valid():
    entries, problems = check.load_acceptances()
    invalid = problems + [f"{e.label()}: {'; '.join(e.problems)}" for e in entries if not e.valid]
    assert invalid == []
    assert {e.kind for e in entries} == {"bandit", "dependency"}


def test_bandit_reports_a_new_finding_in_real_code(tmp_path):
    (tmp_path / "mod.py").write_text("import json\n\n\ndef load(blob):\n    return pickle.loads(\n        blob)\n")
    findings, errors = check.run_bandit(root=tmp_path, targets=["mod.py"])
    assert errors == []
    [finding] = [f for f in findings if f.test == "B301"]
    assert finding.path == "mod.py" and finding.source == "return pickle.loads( blob)"
    section = check.reconcile("bandit", findings, [])
    assert finding in section.unaccepted


def test_bandit_ignores_nosec_comments(tmp_path):
    (tmp_path / "mod.py").write_text("import pickle  # nosec\n")
    findings, _ = check.run_bandit(root=tmp_path, targets=["mod.py"])
    assert [f.test for f in findings] == ["B403"]


# -- matching bandit findings ----------------------------------------------------------------------
def test_a_bandit_finding_not_in_the_acceptances_is_reported():
    entries = acceptances(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
    ''')
    accepted = bandit_finding()
    new = bandit_finding(test="B301", path="core/services/ingest.py", source="data = pickle.loads(blob)",
                         issue="Pickle can be unsafe")
    section = check.reconcile("bandit", [accepted, new], entries)
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
    entries = acceptances(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
    ''')
    section = check.reconcile("bandit", [finding], entries)
    assert section.unaccepted == [finding] and section.stale == entries


def test_issue_tells_apart_findings_in_one_statement():
    source = '"client_secret": "SF_CLIENT_SECRET", "api_key": "hunter2"'
    entries = acceptances('''
        [[bandit]]
        test = "B105"
        path = "core/settings.py"
        match = '"client_secret": "SF_CLIENT_SECRET"'
        issue = "'SF_CLIENT_SECRET'"
        reason = "An environment variable NAME, not a secret value: no credential is in the code."
    ''')
    named = bandit_finding("B105", "core/settings.py", source, "Possible hardcoded password: 'SF_CLIENT_SECRET'")
    real = bandit_finding("B105", "core/settings.py", source, "Possible hardcoded password: 'hunter2'")
    section = check.reconcile("bandit", [named, real], entries)
    assert section.unaccepted == [real]


# -- the acceptance file itself --------------------------------------------------------------------
@pytest.mark.parametrize("reason_line", ['reason = ""', 'reason = "   "', "", 'reason = "TODO"',
                                         'reason = "false positive"', 'reason = "not a real issue"'])
def test_an_acceptance_without_a_real_reason_is_rejected(reason_line):
    entries, problems = check.parse_acceptances(textwrap.dedent(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        {reason_line}
    '''))
    [entry] = entries
    assert not entry.valid and "reason" in "; ".join(entry.problems)
    finding = bandit_finding()
    section = check.reconcile("bandit", [finding], entries)
    assert section.unaccepted == [finding]  # an invalid entry accepts nothing


def test_unknown_keys_and_tables_are_rejected():
    entries, problems = check.parse_acceptances(textwrap.dedent(f'''
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


def test_a_stale_acceptance_is_reported():
    entries = acceptances(f'''
        [[bandit]]
        test = "B311"
        path = "core/services/outbox.py"
        match = "rng.uniform"
        reason = "{GOOD_REASON}"
        [[dependency]]
        package = "numpy"
        id = "not-audited"
        reason = "Held to the version the models were validated with; revisit at the next retraining."
    ''')
    bandit = check.reconcile("bandit", [], [e for e in entries if e.kind == "bandit"])
    deps = check.reconcile("dependencies", [], [e for e in entries if e.kind == "dependency"],
                           judged=lambda e: True)
    assert bandit.stale == entries[:1] and deps.stale == entries[1:]
    report = check.Report([bandit, deps])
    assert not report.ok and report.text().count("STALE ACCEPTANCE") == 2


# -- the dependency audit --------------------------------------------------------------------------
def project(version: str, vulnerabilities=()) -> dict:
    return {"info": {"version": version}, "vulnerabilities": list(vulnerabilities)}


def test_a_pin_older_than_latest_without_acceptance_is_reported():
    findings, errors, judged, reached = check.registry_fallback(
        {"numpy": "2.4.6", "requests": "2.34.2"},
        fetch=lambda name: {"numpy": project("2.5.5"), "requests": project("2.34.2")}[name])
    assert reached and errors == [] and judged == {"numpy", "requests"}
    [finding] = findings
    assert (finding.package, finding.version, finding.id) == ("numpy", "2.4.6", NOT_AUDITED)
    assert "pinned 2.4.6, latest 2.5.5" in finding.detail
    assert check.reconcile("dependencies", findings, []).unaccepted == [finding]
    entries = acceptances('''
        [[dependency]]
        package = "NumPy"
        id = "not-audited"
        version = "2.4.6"
        reason = "Held to the version the models were validated with; revisit at the next retraining."
    ''')
    assert check.reconcile("dependencies", findings, entries).unaccepted == []
    moved = DependencyFinding("numpy", "2.4.7", NOT_AUDITED, via="registry")  # a new pin re-opens the question
    assert check.reconcile("dependencies", [moved], entries).unaccepted == [moved]


def test_advisories_of_the_latest_release_apply_to_a_pin_at_latest():
    advisory = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"], "fixed_in": ["2.0.1"],
                "summary": "Something bad", "withdrawn": None}
    withdrawn = {"id": "PYSEC-2099-2", "aliases": [], "fixed_in": [], "withdrawn": "2099-01-01T00:00:00Z"}
    findings, errors, _, _ = check.registry_fallback(
        {"pkg": "2.0.0"}, fetch=lambda name: project("2.0.0", [advisory, withdrawn]))
    [finding] = findings
    assert (finding.id, finding.aliases, finding.fixed_in) == ("PYSEC-2099-1", ("CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"),
                                                               ("2.0.1",))
    entries = acceptances('''
        [[dependency]]
        package = "pkg"
        id = "GHSA-aaaa-bbbb-cccc"
        reason = "The vulnerable parser is never called: we only use pkg's writer, see core/x.py."
    ''')
    assert check.reconcile("dependencies", findings, entries).unaccepted == []


def write_pins(tmp_path, text="numpy==2.4.6\npillow_heif==1.8.1\n"):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(text)
    return constraints


def test_pip_audit_results_are_used_as_they_are(tmp_path):
    constraints = write_pins(tmp_path)
    ghsa = DependencyFinding("numpy", "2.4.6", "GHSA-xxxx-yyyy-zzzz", via="pip-audit")
    asked = []

    def fetch(name):
        asked.append(name)
        return project("1.8.1")

    audit = check.audit_dependencies(constraints, [], offline=False,
                                     pip_audit=lambda c: ({"numpy": [ghsa]}, None), fetch=fetch)
    assert audit.errors == [] and audit.findings == [ghsa] and asked == ["pillow-heif"]
    assert audit.judged == {"numpy", "pillow-heif"}


def test_an_unreachable_registry_fails_unless_offline(tmp_path, monkeypatch):
    constraints = write_pins(tmp_path)

    def unreachable(name):
        raise requests.ConnectionError("Failed to resolve 'pypi.org'")

    audit = check.audit_dependencies(constraints, [], offline=False,
                                     pip_audit=lambda c: ({}, "pip-audit crashed"), fetch=unreachable)
    assert any("cannot be reached" in e and "RD_SECURITY_OFFLINE=1" in e for e in audit.errors)
    monkeypatch.setenv("RD_SECURITY_OFFLINE", "1")
    audit = check.audit_dependencies(constraints, [], pip_audit=pytest.fail, fetch=unreachable)
    assert audit.skipped and audit.errors == [] and audit.findings == []


def test_requirements_must_be_covered_by_constraints(tmp_path):
    constraints = write_pins(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nnumpy==2.5.0\nrequests==2.34.2\n")
    audit = check.audit_dependencies(constraints, [requirements], offline=False,
                                     pip_audit=lambda c: ({}, None), fetch=lambda name: project("2.4.6"))
    assert len([e for e in audit.errors if "constraints.txt" in e]) == 2
