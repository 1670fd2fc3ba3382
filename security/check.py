"""Security check of the code, run by `make test`: bandit over the shipped code, reconciled with
security/accepted.toml. It reads only the working tree, so the same commit gets the same answer on any
day, online or offline.

    .venv/bin/python -m security.check        # prints a report; exit status 0 pass, 1 any problem

The check FAILS on:

* a bandit finding that no entry of security/accepted.toml accepts;
* an entry of accepted.toml (of either kind) that is invalid: missing field, unknown key, a reason
  without substance; and a STALE [[bandit]] entry (one that matches no current finding), so the file
  cannot rot;
* bandit not running, or not scanning a file;
* a requirements file that pins a version constraints.txt does not hold (security/pins.py), since the
  dependency audit covers constraints.txt only.

Bandit
    `bandit -r app.py core ui pages sf_emulator -f json -q --ignore-nosec`: every severity, every
    confidence, nothing of the product code excluded, and `# nosec` comments ignored: every
    acceptance lives in accepted.toml, with its reason. `bench/`, `training/` and `tests/` are not
    shipped (benchmarks, model training and the test suite never run in production) and are left out.
    A `[[bandit]]` entry accepts the findings with its `test` id, in its `path`, whose flagged source
    contains `match` (the statement bandit flags, its lines joined, whitespace collapsed, so line
    numbers may move); an optional `issue` must then also be a substring of bandit's issue text (to
    tell apart several findings in one statement, e.g. which string B105 took for a password).

Known vulnerabilities in the pinned dependencies depend on the day's advisories, not on the commit:
they are the dependency audit's business (security/audit.py, `make audit`), which also judges the
[[dependency]] entries for staleness.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from security.acceptances import ACCEPTED, ROOT, Section, collapse, invalid_entries, load_acceptances, reconcile, rel
from security.pins import CONSTRAINTS, REQUIREMENTS, pin_problems

BANDIT_TARGETS = ("app.py", "core", "ui", "pages", "sf_emulator")
BANDIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class BanditFinding:
    kind: ClassVar[str] = "bandit"
    test: str
    path: str  # relative to the repository root, with forward slashes
    line: int
    severity: str
    confidence: str
    issue: str
    source: str  # the flagged statement, whitespace collapsed

    def accepted_by(self, fields: dict) -> bool:
        return (self.test == fields["test"] and self.path == fields["path"].strip().removeprefix("./")
                and collapse(fields["match"]) in self.source
                and ("issue" not in fields or fields["issue"] in self.issue))

    def describe(self) -> str:
        return (f"{self.test} {self.path}:{self.line} [{self.severity}/{self.confidence}] {self.issue}\n"
                f"      code: {self.source[:200]}")


def _flagged_source(result: dict, lines: list[str] | None) -> str:
    numbers = result.get("line_range") or [result["line_number"]]
    if lines is not None and all(1 <= n <= len(lines) for n in numbers):
        return collapse(" ".join(lines[n - 1] for n in range(min(numbers), max(numbers) + 1)))
    # fall back to the excerpt bandit printed, without its line numbers
    return collapse(" ".join(re.sub(r"^\d+ ", "", x) for x in result.get("code", "").splitlines()))


def parse_bandit(report: dict, root: Path = ROOT) -> tuple[list[BanditFinding], list[str]]:
    """Findings and scan errors from bandit's JSON report."""
    errors = [f"bandit could not scan {rel(e.get('filename', '?'), root)}: {e.get('reason', '?')}"
              for e in report.get("errors", [])]
    cache: dict[str, list[str] | None] = {}
    findings = []
    for r in report.get("results", []):
        path = rel(r["filename"], root)
        if path not in cache:
            try:
                cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                cache[path] = None
        findings.append(BanditFinding(r["test_id"], path, r["line_number"], r["issue_severity"],
                                      r["issue_confidence"], r["issue_text"], _flagged_source(r, cache[path])))
    return findings, errors


def run_bandit(root: Path = ROOT, targets: Iterable[str] = BANDIT_TARGETS) -> tuple[list[BanditFinding], list[str]]:
    cmd = [sys.executable, "-m", "bandit", "-r", *targets, "-f", "json", "-q", "--ignore-nosec"]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=BANDIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], [f"bandit did not run: {exc}"]
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [], [f"bandit produced no JSON report (exit status {proc.returncode}): {tail}"]
    return parse_bandit(report, root)


@dataclass
class Report:
    sections: list[Section]
    errors: list[str] = field(default_factory=list)  # bandit could not scan; pins disagree
    invalid: list[str] = field(default_factory=list)  # problems of accepted.toml
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        return len(self.errors) + len(self.invalid) + sum(len(s.unaccepted) + len(s.stale) for s in self.sections)

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def text(self) -> str:
        out = ["Security check of the code (security/check.py; acceptances in security/accepted.toml)"]
        for s in self.sections:
            out += ["", *s.lines()]
        if self.errors:
            out += ["", "== errors", *[f"   ERROR: {e}" for e in self.errors]]
        if self.invalid:
            out += ["", "== acceptance file problems", *[f"   INVALID: {p}" for p in self.invalid]]
        verdict = "PASS" if self.ok else f"FAIL ({self.problems} problem{'s' if self.problems != 1 else ''})"
        return "\n".join(out + ["", f"{verdict} in {self.seconds:.1f} s"])


def run_checks(root: Path = ROOT, accepted: Path = ACCEPTED) -> Report:
    """Bandit over the shipped code and the pins' agreement, reconciled with the acceptance file."""
    started = time.monotonic()
    entries, file_problems = load_acceptances(accepted)
    findings, bandit_errors = run_bandit(root)
    bandit_ran = not any(e.startswith(("bandit did not run", "bandit produced no")) for e in bandit_errors)
    bandit = reconcile(f"bandit ({' '.join(BANDIT_TARGETS)})", findings,
                       [e for e in entries if e.kind == "bandit"], judged=lambda entry: bandit_ran)
    errors = bandit_errors + pin_problems(root / CONSTRAINTS.name, [root / r.name for r in REQUIREMENTS])
    return Report([bandit], errors, invalid_entries(entries, file_problems), time.monotonic() - started)


def main() -> int:
    report = run_checks()
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
