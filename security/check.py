"""Security checks: a security linter over the shipped code and an audit of every pinned dependency.

    .venv/bin/python security/check.py        # prints a report; exit status 1 on any problem

`make test` runs the same checks (tests/security/test_security_scan.py). The check FAILS on:

* a finding that no entry of security/accepted.toml accepts;
* an acceptance that is invalid (missing field, unknown key, a reason without substance) or STALE
  (it matches no current finding), so the file cannot rot;
* a scanner that could not run, or a registry that cannot be reached (see "Offline" below).

Bandit
    `bandit -r app.py core ui pages sf_emulator -f json -q --ignore-nosec`: every severity, every
    confidence, nothing of the product code excluded, and `# nosec` comments ignored: every
    acceptance lives in accepted.toml, with its reason. `bench/`, `training/` and `tests/` are not
    shipped (benchmarks, model training and the test suite never run in production) and are left out.
    A `[[bandit]]` entry accepts the findings with its `test` id, in its `path`, whose flagged source
    contains `match` (the statement bandit flags, its lines joined, whitespace collapsed, so line
    numbers may move); an optional `issue` must then also be a substring of bandit's issue text (to
    tell apart several findings in one statement, e.g. which string B105 took for a password).

Dependencies
    Every pin in constraints.txt (the full frozen set: requirements.txt holds only the runtime
    pins, and both requirements files must agree with it) goes to
    `pip-audit -r constraints.txt --no-deps --disable-pip --format json --progress-spinner off`;
    what pip-audit audits is used as it is. pip-audit asks `https://pypi.org/pypi/<name>/<version>/json`,
    which the package mirror used here and in CI does not serve (404: "Dependency not found on
    PyPI"), and osv.dev cannot be reached. Every package pip-audit skips is therefore looked up at
    the project endpoint `https://pypi.org/pypi/<name>/json`, whose `vulnerabilities` list PyPI
    computes for the LATEST release only:
      * pin == latest release: each listed (not withdrawn) advisory is a finding with its id,
        aliases and fixed versions;
      * pin != latest release: the registry cannot tell, so the package is a finding with id
        `not-audited` ("pinned X, latest Y; ...") that must be accepted with a reason;
      * no such project on the registry: a finding with id `not-on-registry`.
    A `[[dependency]]` entry accepts findings of its `package` whose id or one of whose aliases is
    its `id`; an optional `version` must equal the pinned version (a changed pin re-opens review).

Offline
    If the registry cannot be reached at all, the check FAILS with a message saying so: an audit
    that did not run is not a pass. With `RD_SECURITY_OFFLINE=1` in the environment the dependency
    half is reported as skipped (its acceptances are not judged) and only bandit runs. The tests
    never set it.

Only the standard library and `requests` are used here (besides running bandit and pip-audit).
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import requests

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / "security" / "accepted.toml"
CONSTRAINTS = ROOT / "constraints.txt"
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
BANDIT_TARGETS = ("app.py", "core", "ui", "pages", "sf_emulator")
PROJECT_URL = "https://pypi.org/pypi/{name}/json"
OFFLINE_ENV = "RD_SECURITY_OFFLINE"
NOT_AUDITED = "not-audited"
NOT_ON_REGISTRY = "not-on-registry"
REQUEST_TIMEOUT = (5, 20)  # seconds: connect, read
FETCH_WORKERS = 8
BANDIT_TIMEOUT_S = 300
PIP_AUDIT_TIMEOUT_S = 240
MIN_REASON_CHARS = 40
MIN_REASON_WORDS = 6
_PLACEHOLDERS = {"todo", "tbd", "n/a", "na", "none", "ok", "fine", "accepted", "false positive", "wontfix", "-"}
_FIELDS = {"bandit": ({"test", "path", "match", "reason"}, {"issue"}),
           "dependency": ({"package", "id", "reason"}, {"version"})}


def canonical(name: str) -> str:
    """PEP 503 normalised project name: `Pillow_HEIF` -> `pillow-heif`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _collapse(text: str) -> str:
    return " ".join(text.split())


# -- findings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BanditFinding:
    test: str
    path: str  # relative to the repository root, with forward slashes
    line: int
    severity: str
    confidence: str
    issue: str
    source: str  # the flagged statement, whitespace collapsed

    def describe(self) -> str:
        return (f"{self.test} {self.path}:{self.line} [{self.severity}/{self.confidence}] {self.issue}\n"
                f"      code: {self.source[:200]}")


@dataclass(frozen=True)
class DependencyFinding:
    package: str  # canonical name
    version: str  # the pinned version
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    detail: str = ""
    via: str = ""  # "pip-audit" or "registry"

    def describe(self) -> str:
        extra = []
        if self.aliases:
            extra.append("aliases " + ", ".join(self.aliases))
        if self.fixed_in:
            extra.append("fixed in " + ", ".join(self.fixed_in))
        tail = f" ({'; '.join(extra)})" if extra else ""
        return f"{self.package}=={self.version} {self.id}{tail} [{self.via}]: {self.detail[:200]}"


# -- acceptances ---------------------------------------------------------------------------------
@dataclass
class Acceptance:
    kind: str  # "bandit" or "dependency"
    number: int  # 1-based position among the entries of its kind
    fields: dict
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def label(self) -> str:
        f = self.fields
        if self.kind == "bandit":
            return f"[[bandit]] #{self.number} {f.get('test')} {f.get('path')} match={f.get('match')!r}"
        version = f" version={f.get('version')}" if "version" in f else ""
        return f"[[dependency]] #{self.number} {f.get('package')} id={f.get('id')}{version}"

    def matches(self, finding) -> bool:
        if not self.valid:
            return False
        f = self.fields
        if self.kind == "bandit":
            return (isinstance(finding, BanditFinding) and finding.test == f["test"]
                    and finding.path == f["path"].strip().removeprefix("./")
                    and _collapse(f["match"]) in finding.source
                    and ("issue" not in f or f["issue"] in finding.issue))
        return (isinstance(finding, DependencyFinding) and finding.package == canonical(f["package"])
                and (f["id"] == finding.id or f["id"] in finding.aliases)
                and ("version" not in f or f["version"] == finding.version))


def reason_problem(reason) -> str | None:
    """Why a reason is not acceptable, or None when it is."""
    if not isinstance(reason, str) or not reason.strip():
        return "has no reason: every acceptance must say why it is safe"
    text = reason.strip()
    if text.lower().rstrip(".") in _PLACEHOLDERS:
        return f"reason {text!r} is a placeholder, not a reason"
    if len(text) < MIN_REASON_CHARS or len(text.split()) < MIN_REASON_WORDS:
        return (f"reason {text!r} is too thin (at least {MIN_REASON_CHARS} characters and "
                f"{MIN_REASON_WORDS} words: say what makes this safe)")
    return None


def parse_acceptances(text: str, origin: str = "accepted.toml") -> tuple[list[Acceptance], list[str]]:
    """The entries of an acceptance file, each with its problems, and problems of the file itself."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{origin}: not valid TOML ({exc})"]
    entries: list[Acceptance] = []
    file_problems = [f"{origin}: unknown top-level key {key!r} (use [[bandit]] or [[dependency]] tables)"
                     for key in data if key not in _FIELDS]
    seen: dict[tuple, int] = {}
    for kind, (required, optional) in _FIELDS.items():
        tables = data.get(kind, [])
        if not isinstance(tables, list):
            file_problems.append(f"{origin}: {kind} must be an array of tables ([[{kind}]])")
            continue
        for number, table in enumerate(tables, start=1):
            entry = Acceptance(kind, number, table if isinstance(table, dict) else {})
            if not isinstance(table, dict):
                entry.problems.append("is not a table")
                entries.append(entry)
                continue
            for key in sorted(required - set(table)):
                entry.problems.append(f"lacks {key!r}")
            for key in sorted(set(table) - required - optional):
                entry.problems.append(f"has unknown key {key!r}")
            for key in sorted((required | optional) & set(table) - {"reason"}):
                if not isinstance(table[key], str) or not table[key].strip():
                    entry.problems.append(f"{key!r} must be a non-empty string")
            problem = reason_problem(table.get("reason"))
            if problem:
                entry.problems.append(problem)
            if kind == "bandit" and isinstance(table.get("test"), str) and not re.fullmatch(r"B\d{3}", table["test"]):
                entry.problems.append(f"test {table['test']!r} is not a bandit test id (B101...)")
            identity = (kind,) + tuple(sorted((k, str(v)) for k, v in table.items() if k != "reason"))
            if identity in seen:
                entry.problems.append(f"duplicates entry #{seen[identity]}")
            seen.setdefault(identity, number)
            entries.append(entry)
    return entries, file_problems


def load_acceptances(path: Path = ACCEPTED) -> tuple[list[Acceptance], list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [], [f"cannot read the acceptance file {path}: {exc}"]
    return parse_acceptances(text, origin=_rel(path))


# -- bandit --------------------------------------------------------------------------------------
def _rel(path: Path | str, root: Path = ROOT) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


def parse_bandit(report: dict, root: Path = ROOT) -> tuple[list[BanditFinding], list[str]]:
    """Findings and scan errors from bandit's JSON report."""
    errors = [f"bandit could not scan {_rel(e.get('filename', '?'), root)}: {e.get('reason', '?')}"
              for e in report.get("errors", [])]
    cache: dict[str, list[str] | None] = {}
    findings = []
    for r in report.get("results", []):
        path = _rel(r["filename"], root)
        if path not in cache:
            try:
                cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                cache[path] = None
        lines = cache[path]
        numbers = r.get("line_range") or [r["line_number"]]
        if lines is not None and all(1 <= n <= len(lines) for n in numbers):
            source = _collapse(" ".join(lines[n - 1] for n in range(min(numbers), max(numbers) + 1)))
        else:  # fall back to the excerpt bandit printed, without its line numbers
            source = _collapse(" ".join(re.sub(r"^\d+ ", "", x) for x in r.get("code", "").splitlines()))
        findings.append(BanditFinding(r["test_id"], path, r["line_number"], r["issue_severity"],
                                      r["issue_confidence"], r["issue_text"], source))
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


# -- dependencies --------------------------------------------------------------------------------
def read_pins(path: Path) -> tuple[dict[str, str], list[str]]:
    """{canonical name: pinned version} of a requirements/constraints file, and lines that are not
    exact pins (`-r` includes and comments are skipped)."""
    pins, problems = {}, []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(;.*)?", line)
        if not m:
            problems.append(f"{_rel(path)}:{number}: {line!r} is not an exact pin (name==version)")
            continue
        pins[canonical(m.group(1))] = m.group(3)
    return pins, problems


def run_pip_audit(constraints: Path, root: Path = ROOT) -> tuple[dict[str, list[DependencyFinding]], str | None]:
    """{canonical name: findings} for the packages pip-audit did audit, and pip-audit's failure, if any.
    Skipped packages are absent from the mapping."""
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(constraints), "--no-deps", "--disable-pip",
           "--format", "json", "--progress-spinner", "off", "--timeout", "15"]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=PIP_AUDIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {}, f"pip-audit did not run: {exc}"
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {}, f"pip-audit produced no JSON report (exit status {proc.returncode}): {tail}"
    audited: dict[str, list[DependencyFinding]] = {}
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep or "version" not in dep:
            continue
        name = canonical(dep["name"])
        audited[name] = [DependencyFinding(name, dep["version"], v["id"], tuple(v.get("aliases") or ()),
                                           tuple(v.get("fix_versions") or ()),
                                           _collapse(v.get("description") or ""), "pip-audit")
                         for v in dep.get("vulns", [])]
    return audited, None


_local = threading.local()


def fetch_project(name: str) -> dict | None:
    """The registry's project JSON, or None when there is no such project. Network errors and server
    errors are retried once, then raised."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    for attempt in (1, 2):
        try:
            response = session.get(PROJECT_URL.format(name=name), timeout=REQUEST_TIMEOUT)
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json()
        except (requests.ConnectionError, requests.Timeout, requests.HTTPError):
            if attempt == 2:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")  # pragma: no cover


def registry_fallback(pins: dict[str, str], fetch: Callable[[str], dict | None] = fetch_project,
                      workers: int = FETCH_WORKERS) -> tuple[list[DependencyFinding], list[str], set[str], bool]:
    """Audit pins at the project endpoint. Returns findings, errors, the packages judged, and whether
    the registry answered at all. One probe goes first, so an unreachable registry fails fast."""

    def one(name: str):
        try:
            return name, fetch(name), None
        except (requests.RequestException, ValueError) as exc:
            return name, None, f"{type(exc).__name__}: {exc}"

    names = sorted(pins)
    if not names:
        return [], [], set(), True
    results = [one(names[0])]
    if results[0][2] is not None:
        return [], [f"{names[0]}: {results[0][2]}"], set(), False
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results += list(pool.map(one, names[1:]))
    findings, errors, judged = [], [], set()
    for name, data, error in results:
        pin = pins[name]
        if error is not None:
            errors.append(f"{name}=={pin} could not be audited: {error}")
            continue
        judged.add(name)
        if data is None:
            findings.append(DependencyFinding(name, pin, NOT_ON_REGISTRY,
                                              detail="the registry has no project of this name", via="registry"))
            continue
        latest = str((data.get("info") or {}).get("version", "?"))
        if pin != latest:
            findings.append(DependencyFinding(
                name, pin, NOT_AUDITED, via="registry",
                detail=f"pinned {pin}, latest {latest}; this registry serves advisories for the latest release only"))
            continue
        for v in data.get("vulnerabilities") or []:
            if v.get("withdrawn"):
                continue
            findings.append(DependencyFinding(
                name, pin, str(v.get("id")), tuple(v.get("aliases") or ()), tuple(v.get("fixed_in") or ()),
                _collapse(v.get("summary") or v.get("details") or ""), "registry"))
    if not judged:
        return findings, errors, judged, False
    return findings, errors, judged, True


@dataclass
class DependencyAudit:
    findings: list[DependencyFinding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    judged: set[str] = field(default_factory=set)  # packages whose findings are complete
    skipped: bool = False


def offline_requested() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip() == "1"


def audit_dependencies(constraints: Path = CONSTRAINTS, requirements: Iterable[Path] = REQUIREMENTS, *,
                       offline: bool | None = None,
                       pip_audit: Callable[[Path], tuple[dict, str | None]] = run_pip_audit,
                       fetch: Callable[[str], dict | None] = fetch_project) -> DependencyAudit:
    audit = DependencyAudit()
    if offline if offline is not None else offline_requested():
        audit.skipped = True
        audit.notes.append(f"{OFFLINE_ENV}=1: dependency audit skipped; its acceptances are not judged")
        return audit
    pins, problems = read_pins(constraints)
    audit.errors += problems
    for req in requirements:
        if not req.exists():
            continue
        wanted, req_problems = read_pins(req)
        audit.errors += req_problems
        for name, version in sorted(wanted.items()):
            if pins.get(name) != version:
                audit.errors.append(f"{_rel(req)} pins {name}=={version} but {_rel(constraints)} has "
                                    f"{pins.get(name, 'no pin')}: the audit covers constraints.txt only")
    audited, failure = pip_audit(constraints)
    audited = {name: found for name, found in audited.items() if name in pins}
    for name, found in audited.items():
        audit.findings += [DependencyFinding(f.package, pins[name], f.id, f.aliases, f.fixed_in, f.detail, f.via)
                           for f in found]
    audit.judged |= set(audited)
    rest = {name: version for name, version in pins.items() if name not in audited}
    if failure:
        audit.notes.append(f"pip-audit failed ({failure}); every pin goes to the registry fallback")
    found, errors, judged, reached = registry_fallback(rest, fetch)
    if not reached:
        audit.errors.append(
            f"the package registry cannot be reached ({errors[0] if errors else 'no answer'}), so "
            f"{len(rest)} of {len(pins)} pinned dependencies were NOT audited. Fix the network, or set "
            f"{OFFLINE_ENV}=1 to run only bandit while offline.")
    else:
        audit.errors += errors
        audit.notes.append(f"{len(pins)} pins in {_rel(constraints)}: {len(audited)} audited by pip-audit, "
                           f"{len(judged)} through the registry's project JSON (pip-audit skipped them)")
    audit.findings += found
    audit.judged |= judged
    return audit


# -- the report ----------------------------------------------------------------------------------
@dataclass
class Section:
    name: str
    findings: list = field(default_factory=list)
    accepted: list[tuple[object, list[Acceptance]]] = field(default_factory=list)
    unaccepted: list = field(default_factory=list)
    stale: list[Acceptance] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: bool = False


def reconcile(name: str, findings: list, acceptances: list[Acceptance], *,
              judged: Callable[[Acceptance], bool] = lambda entry: True) -> Section:
    """Sort findings into accepted and unaccepted; valid acceptances that match nothing (and whose
    subject was judged at all) are stale."""
    section = Section(name, findings=list(findings))
    used: set[int] = set()
    for finding in findings:
        by = [a for a in acceptances if a.matches(finding)]
        used |= {id(a) for a in by}
        if by:
            section.accepted.append((finding, by))
        else:
            section.unaccepted.append(finding)
    section.stale = [a for a in acceptances if a.valid and id(a) not in used and judged(a)]
    return section


@dataclass
class Report:
    sections: list[Section]
    invalid: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        return len(self.invalid) + sum(len(s.unaccepted) + len(s.stale) + len(s.errors) for s in self.sections)

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def text(self) -> str:
        out = ["Security checks (security/check.py; acceptances in security/accepted.toml)"]
        for s in self.sections:
            out.append("")
            if s.skipped:
                out.append(f"== {s.name}: SKIPPED")
            else:
                out.append(f"== {s.name}: {len(s.findings)} findings, {len(s.accepted)} accepted, "
                           f"{len(s.unaccepted)} NOT accepted")
            out += [f"   note: {n}" for n in s.notes]
            out += [f"   ERROR: {e}" for e in s.errors]
            for f in s.unaccepted:
                out.append(f"   NOT ACCEPTED: {f.describe()}")
            for a in s.stale:
                out.append(f"   STALE ACCEPTANCE (matches no current finding; remove it): {a.label()}")
            for f, by in s.accepted:
                reason = _collapse(by[0].fields["reason"])
                reason = reason if len(reason) <= 150 else reason[:149] + "…"
                out.append(f"   accepted: {f.describe().splitlines()[0]}\n      reason: {reason}")
        if self.invalid:
            out.append("")
            out.append("== acceptance file problems")
            out += [f"   INVALID: {p}" for p in self.invalid]
        out.append("")
        verdict = "PASS" if self.ok else f"FAIL ({self.problems} problem{'s' if self.problems != 1 else ''})"
        out.append(f"{verdict} in {self.seconds:.1f} s")
        return "\n".join(out)


def run_checks(root: Path = ROOT, accepted: Path = ACCEPTED, *, offline: bool | None = None) -> Report:
    """Both scans (concurrently), reconciled with the acceptance file."""
    started = time.monotonic()
    entries, file_problems = load_acceptances(accepted)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        bandit_job = pool.submit(run_bandit, root)
        deps_job = pool.submit(audit_dependencies, root / CONSTRAINTS.name,
                               [root / r.name for r in REQUIREMENTS], offline=offline)
        bandit_findings, bandit_errors = bandit_job.result()
        deps = deps_job.result()
    bandit_ok = not any(e.startswith("bandit did not run") or e.startswith("bandit produced no") for e in bandit_errors)
    bandit = reconcile(f"bandit ({' '.join(BANDIT_TARGETS)})", bandit_findings,
                       [e for e in entries if e.kind == "bandit"], judged=lambda entry: bandit_ok)
    bandit.errors = bandit_errors
    dependency = reconcile("dependencies (constraints.txt)", deps.findings,
                           [e for e in entries if e.kind == "dependency"],
                           judged=lambda entry: canonical(entry.fields["package"]) in deps.judged)
    dependency.errors, dependency.notes, dependency.skipped = deps.errors, deps.notes, deps.skipped
    invalid = file_problems + [f"{e.label()}: {'; '.join(e.problems)}" for e in entries if not e.valid]
    return Report([bandit, dependency], invalid, time.monotonic() - started)


def main() -> int:
    report = run_checks()
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
