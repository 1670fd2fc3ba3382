"""Checks of the shipped Apex without an org, run by `make test` (tests/security/test_apex_checks.py):

* every class and trigger under salesforce/ parses with the published Apex grammar
  (@apexdevtools/apex-parser, tools/apex/parse.mjs); a syntax error is reported as path:line:column;
* PMD's Apex rules of the Security, Best Practices and Error Prone categories (PMD 7, shipped inside the
  npm package @salesforce/code-analyzer-pmd-engine, run by tools/apex/pmd.mjs; needs Java 11 or newer,
  no network): a finding fails unless a [[pmd]] entry of security/accepted.toml accepts it with a reason,
  and a [[pmd]] entry that accepts no finding is STALE and fails too;
* sf_emulator/apex_policy.json, which the emulator's stand-ins for the triggers read, holds exactly the
  constants of ResponseDeskPolicy.cls as the grammar reads them (`make apex-policy` writes it).

    .venv/bin/python -m security.apex        # prints a report; exit status 0 pass, 1 any problem

A [[pmd]] entry: `rule` (PMD's rule name), `path` (relative to the repository root; a glob such as
salesforce/**/*Test.cls is allowed), optional `match` (a substring of the flagged source, its lines
joined and whitespace collapsed, so line numbers may move) and `reason`. The node packages are installed
by `make test` (npm ci in tools/apex, from package-lock.json).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import ClassVar

from security.acceptances import ACCEPTED, ROOT, Section, collapse, invalid_entries, load_acceptances, reconcile

TOOLS = ROOT / "tools" / "apex"
APEX_ROOTS = ("salesforce",)
PMD_CATEGORIES = ("Security", "BestPractices", "ErrorProne")
POLICY_CLASS = ROOT / "salesforce" / "force-app" / "main" / "default" / "classes" / "ResponseDeskPolicy.cls"
POLICY_JSON = ROOT / "sf_emulator" / "apex_policy.json"
NODE_TIMEOUT_S = 300


@dataclass(frozen=True)
class PmdFinding:
    kind: ClassVar[str] = "pmd"
    rule: str
    category: str
    path: str  # relative to the repository root, with forward slashes
    line: int
    message: str
    source: str  # the flagged lines, whitespace collapsed

    def accepted_by(self, fields: dict) -> bool:
        return (self.rule == fields["rule"] and fnmatch(self.path, fields["path"].strip().removeprefix("./"))
                and ("match" not in fields or collapse(fields["match"]) in self.source))

    def describe(self) -> str:
        return f"{self.rule} ({self.category}) {self.path}:{self.line} {self.message}\n      code: {self.source[:200]}"


def missing_tools(*, java: bool = True) -> str | None:
    """What is missing to run the checks, or None."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if not (TOOLS / "node_modules" / "@apexdevtools" / "apex-parser").is_dir():
        return "the Apex tools are not installed (make test runs npm ci in tools/apex)"
    if java and shutil.which("java") is None:
        return "java is not installed (Debian: apt-get install default-jre-headless); PMD needs it"
    return None


def node(script: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(TOOLS / script), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=NODE_TIMEOUT_S)


def syntax_errors(*paths: str, cwd: Path = ROOT) -> tuple[list[str], str]:
    """`path:line:column: message` for each syntax error, and the parser's closing line."""
    proc = node("parse.mjs", *paths, cwd=cwd)
    lines = proc.stdout.strip().splitlines() or [proc.stderr.strip() or f"exit status {proc.returncode}"]
    errors, summary = lines[:-1], lines[-1]
    if proc.returncode != 0 and not errors:
        errors = [summary]
    return errors, summary


def pmd_findings(*paths: str, cwd: Path = ROOT, categories: tuple[str, ...] = PMD_CATEGORIES
                 ) -> tuple[list[PmdFinding], list[str]]:
    """PMD's findings over these folders, and the problems that kept it from running cleanly."""
    proc = node("pmd.mjs", "--categories", ",".join(categories), *paths, cwd=cwd)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [], [f"PMD produced no report (exit status {proc.returncode}): {tail}"]
    if not report["rules"]:
        return [], ["PMD ran no Apex rule"]
    return [PmdFinding(f["rule"], f["category"], f["path"], f["line"], f["message"],
                       _source(cwd / f["path"], f["line"], f["endLine"])) for f in report["findings"]], report["problems"]


def _source(path: Path, first: int, last: int) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return collapse(" ".join(lines[first - 1:max(first, last)]))


def policy_constants() -> dict:
    """ResponseDeskPolicy.cls's constants, read through the Apex grammar."""
    proc = node("constants.mjs", str(POLICY_CLASS))
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    return json.loads(proc.stdout)


@dataclass
class Report:
    parsed: str = ""
    syntax: list[str] = field(default_factory=list)
    pmd: Section | None = None
    errors: list[str] = field(default_factory=list)  # PMD problems, a stale policy file, invalid acceptances
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.syntax or self.errors or (self.pmd and (self.pmd.unaccepted or self.pmd.stale)))

    def text(self) -> str:
        out = ["Apex checks (security/apex.py; acceptances in security/accepted.toml)", "",
               f"== Apex grammar: {self.parsed}", *[f"   SYNTAX ERROR: {e}" for e in self.syntax]]
        if self.pmd:
            out += ["", *self.pmd.lines()]
        out += [f"   ERROR: {e}" for e in self.errors]
        return "\n".join(out + ["", f"{'PASS' if self.ok else 'FAIL'} in {self.seconds:.1f} s"])


def run_checks(accepted: Path = ACCEPTED) -> Report:
    started = time.monotonic()
    report = Report()
    report.syntax, report.parsed = syntax_errors(*APEX_ROOTS)
    entries, file_problems = load_acceptances(accepted)
    report.errors += invalid_entries([e for e in entries if e.kind == "pmd"], file_problems)
    findings, problems = pmd_findings(*APEX_ROOTS)
    report.errors += problems
    report.pmd = reconcile(f"PMD Apex rules ({', '.join(PMD_CATEGORIES)}) over {', '.join(APEX_ROOTS)}", findings,
                           [e for e in entries if e.kind == "pmd"], judged=lambda entry: not problems)
    if json.loads(POLICY_JSON.read_text(encoding="utf-8")) != policy_constants():
        report.errors.append(f"{POLICY_JSON.relative_to(ROOT)} differs from ResponseDeskPolicy.cls: run make apex-policy")
    report.seconds = time.monotonic() - started
    return report


def main() -> int:
    missing = missing_tools()
    if missing:
        print(f"Apex checks cannot run: {missing}")
        return 1
    report = run_checks()
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
