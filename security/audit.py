"""Dependency audit: known vulnerabilities in the pinned dependencies, run by `make audit`.

    .venv/bin/python -m security.audit        # prints a report; exit status below

This is an outside-world check: its answer depends on the day's advisories and on reaching the package
registry, so `make test` and CI do not run it (they run security/check.py, which reads only the tree).

Exit status
    0  no known vulnerability that security/accepted.toml does not accept, among the pins that could
       be checked; pins that could not be checked are listed as "not checked" with the reason
    1  a pinned version has a known vulnerability that no valid [[dependency]] entry accepts
    2  the audit could not run: not one pin could be checked (e.g. no network)

What is checked: every pin in constraints.txt (the full frozen set; `make test` checks that both
requirements files agree with it, security/pins.py).
  1. `pip-audit -r constraints.txt --no-deps --disable-pip --format json`: what pip-audit audits is
     used as it is. pip-audit asks `https://pypi.org/pypi/<name>/<version>/json`, which the package
     mirror used here does not serve (it skips every package: "Dependency not found on PyPI").
  2. Every pin pip-audit skipped goes to the registry's project endpoint
     `https://pypi.org/pypi/<name>/json`, whose `vulnerabilities` list PyPI computes for the LATEST
     release only. A pin equal to the latest release is checked: each listed advisory that is not
     withdrawn is a finding. A pin older than the latest release is "not checked" (the registry
     cannot say), which is not a finding; neither is a missing project or a registry error.

A `[[dependency]]` entry of accepted.toml accepts the findings of its `package` whose id or one of
whose aliases is its `id`; an optional `version` must equal the pinned version (a changed pin re-opens
review). An entry whose package was checked and which matches no finding is reported as STALE (remove
it); that does not change the exit status, since it follows the advisories of the day. An invalid entry
accepts nothing (and fails `make test`).
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import requests

from security.acceptances import ACCEPTED, Section, canonical, collapse, invalid_entries, load_acceptances, reconcile
from security.pins import CONSTRAINTS, read_pins

PROJECT_URL = "https://pypi.org/pypi/{name}/json"
REQUEST_TIMEOUT = (5, 20)  # seconds: connect, read
FETCH_WORKERS = 8
PIP_AUDIT_TIMEOUT_S = 240
PASSED, VULNERABLE, COULD_NOT_RUN = 0, 1, 2  # exit statuses


class CouldNotAsk(Exception):
    """A source of advisories (pip-audit, the registry) gave no answer."""


@dataclass(frozen=True)
class DependencyFinding:
    kind: ClassVar[str] = "dependency"
    package: str  # canonical name
    version: str  # the pinned version
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    detail: str = ""
    via: str = ""  # "pip-audit" or "registry"

    def accepted_by(self, fields: dict) -> bool:
        return (self.package == canonical(fields["package"])
                and (fields["id"] == self.id or fields["id"] in self.aliases)
                and ("version" not in fields or fields["version"] == self.version))

    def describe(self) -> str:
        extra = []
        if self.aliases:
            extra.append("aliases " + ", ".join(self.aliases))
        if self.fixed_in:
            extra.append("fixed in " + ", ".join(self.fixed_in))
        tail = f" ({'; '.join(extra)})" if extra else ""
        return f"{self.package}=={self.version} {self.id}{tail} [{self.via}]: {self.detail[:200]}"


# -- pip-audit -----------------------------------------------------------------------------------
def run_pip_audit(constraints: Path) -> dict:
    """pip-audit's JSON report on a pins file; CouldNotAsk when it gives none."""
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(constraints), "--no-deps", "--disable-pip",
           "--format", "json", "--progress-spinner", "off", "--timeout", "15"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_AUDIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CouldNotAsk(f"pip-audit did not run: {exc}") from exc
    try:
        return json.loads(proc.stdout)  # exit status 1 means "vulnerabilities found", with the report
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CouldNotAsk(f"pip-audit produced no JSON report (exit status {proc.returncode}): {tail}") from None


def read_pip_audit(report: dict, pins: dict[str, str]) -> tuple[dict[str, list[DependencyFinding]], dict[str, str]]:
    """{name: findings} for the pins pip-audit audited, and {name: why} for those it skipped."""
    audited: dict[str, list[DependencyFinding]] = {}
    skipped: dict[str, str] = {}
    for dep in report.get("dependencies", []):
        name = canonical(dep.get("name", ""))
        if name not in pins:
            continue
        if "skip_reason" in dep or "version" not in dep:
            skipped[name] = str(dep.get("skip_reason", "no version in the report"))
            continue
        audited[name] = [DependencyFinding(name, pins[name], v["id"], tuple(v.get("aliases") or ()),
                                           tuple(v.get("fix_versions") or ()),
                                           collapse(v.get("description") or ""), "pip-audit")
                         for v in dep.get("vulns", [])]
    return audited, skipped


# -- the registry's project endpoint -------------------------------------------------------------
def fetch_project(name: str, url: str = PROJECT_URL) -> dict | None:
    """The registry's project JSON, or None when it has no such project. Network and server errors
    are retried once, then CouldNotAsk."""
    for attempt in (1, 2):
        try:
            response = requests.get(url.format(name=name), timeout=REQUEST_TIMEOUT)
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            if attempt == 2:
                raise CouldNotAsk(f"{type(exc).__name__}: {exc}") from exc
            time.sleep(1)
    raise AssertionError("unreachable")  # pragma: no cover


def judge_project(name: str, pin: str, project: dict | None) -> tuple[list[DependencyFinding] | None, str]:
    """The findings for a pin from its project JSON, or None and why the registry cannot say."""
    if project is None:
        return None, "no project of this name"
    latest = str((project.get("info") or {}).get("version", "?"))
    if pin != latest:
        return None, f"pinned {pin}, latest {latest}: advisories are listed for the latest release only"
    return [DependencyFinding(name, pin, str(v.get("id")), tuple(v.get("aliases") or ()),
                              tuple(v.get("fixed_in") or ()),
                              collapse(v.get("summary") or v.get("details") or ""), "registry")
            for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")], ""


def ask_registry(pins: dict[str, str], fetch: Callable[[str], dict | None] = fetch_project
                 ) -> tuple[dict[str, list[DependencyFinding]], dict[str, str], str | None]:
    """{name: findings} for the pins the registry could judge, {name: why} for the rest, and why the
    registry could not be reached at all, if so. One probe goes first, so an unreachable registry is
    found out in one request."""

    def one(name: str) -> tuple[str, list[DependencyFinding] | None, str]:
        try:
            return (name, *judge_project(name, pins[name], fetch(name)))
        except CouldNotAsk as exc:
            return name, None, f"error: {exc}"

    names = sorted(pins)
    if not names:
        return {}, {}, None
    try:
        probe = fetch(names[0])
    except CouldNotAsk as exc:
        return {}, dict.fromkeys(names, "cannot be reached"), str(exc)
    with concurrent.futures.ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        answers = [(names[0], *judge_project(names[0], pins[names[0]], probe)), *pool.map(one, names[1:])]
    return ({name: found for name, found, _ in answers if found is not None},
            {name: why for name, found, why in answers if found is None}, None)


# -- the audit -----------------------------------------------------------------------------------
@dataclass
class DependencyAudit:
    pins: dict[str, str]
    checked: dict[str, str] = field(default_factory=dict)  # name -> "pip-audit" or "registry"
    findings: list[DependencyFinding] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)  # name -> why
    notes: list[str] = field(default_factory=list)


def audit_dependencies(constraints: Path = CONSTRAINTS, *, pip_audit: Callable[[Path], dict] = run_pip_audit,
                       fetch: Callable[[str], dict | None] = fetch_project) -> DependencyAudit:
    pins, problems = read_pins(constraints)
    audit = DependencyAudit(pins, notes=[f"{p} (not audited)" for p in problems])
    try:
        audited, skipped = read_pip_audit(pip_audit(constraints), pins)
    except CouldNotAsk as exc:
        audited, skipped = {}, {}
        audit.notes.append(f"{exc}; every pin goes to the registry")
    rest = {name: version for name, version in pins.items() if name not in audited}
    by_registry, unjudged, unreachable = ask_registry(rest, fetch)
    if unreachable:
        audit.notes.append(f"the package registry cannot be reached: {unreachable}")
    for source, judged in (("pip-audit", audited), ("registry", by_registry)):
        for name, found in judged.items():
            audit.checked[name] = source
            audit.findings += found
    for name, why in sorted(unjudged.items()):
        pip_audit_said = f"pip-audit: {skipped[name]}; " if name in skipped else ""
        audit.not_checked[name] = f"{pip_audit_said}registry: {why}"
    return audit


@dataclass
class AuditReport:
    audit: DependencyAudit
    vulnerabilities: Section
    invalid: list[str]
    seconds: float = 0.0

    @property
    def exit_status(self) -> int:
        if not self.audit.checked:
            return COULD_NOT_RUN
        return VULNERABLE if self.vulnerabilities.unaccepted else PASSED

    def text(self) -> str:
        a = self.audit
        by = {source: sum(1 for s in a.checked.values() if s == source) for source in ("pip-audit", "registry")}
        out = ["Dependency audit (security/audit.py; acceptances in security/accepted.toml)", "",
               f"{len(a.pins)} pins: {len(a.checked)} checked ({by['pip-audit']} by pip-audit, "
               f"{by['registry']} through the registry), {len(a.not_checked)} not checked",
               *[f"   note: {n}" for n in a.notes], "", *self.vulnerabilities.lines()]
        if a.not_checked:
            out += ["", f"== not checked ({len(a.not_checked)}): nothing is known about these pins either way",
                    *[f"   {name}=={a.pins[name]}: {why}" for name, why in a.not_checked.items()]]
        if self.invalid:
            out += ["", "== acceptance file problems (these entries accept nothing)",
                    *[f"   INVALID: {p}" for p in self.invalid]]
        verdict = {PASSED: "PASS: no known vulnerability that is not accepted",
                   VULNERABLE: f"FAIL: {len(self.vulnerabilities.unaccepted)} known vulnerabilities not accepted",
                   COULD_NOT_RUN: "AUDIT COULD NOT RUN: not one pin could be checked"}[self.exit_status]
        return "\n".join(out + ["", f"{verdict} (exit status {self.exit_status}, {self.seconds:.1f} s)"])


def run_audit(constraints: Path = CONSTRAINTS, accepted: Path = ACCEPTED, *,
              pip_audit: Callable[[Path], dict] = run_pip_audit,
              fetch: Callable[[str], dict | None] = fetch_project) -> AuditReport:
    started = time.monotonic()
    entries, file_problems = load_acceptances(accepted)
    audit = audit_dependencies(constraints, pip_audit=pip_audit, fetch=fetch)
    section = reconcile("known vulnerabilities", audit.findings, [e for e in entries if e.kind == "dependency"],
                        judged=lambda entry: canonical(entry.fields["package"]) in audit.checked)
    return AuditReport(audit, section, invalid_entries(entries, file_problems), time.monotonic() - started)


def main() -> int:
    report = run_audit()
    print(report.text())
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
