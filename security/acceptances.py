"""The acceptance file, security/accepted.toml, and how findings are reconciled with it.

Shared by the bandit check (security/check.py, run by `make test`), PMD's Apex rules (security/apex.py,
run by `make test`) and the dependency audit (security/audit.py, run by `make audit`). An entry accepts
the findings it matches, and only while it is valid: every required field present, no unknown key, and a
reason of substance. A valid entry that matches no finding of a subject that was examined is STALE.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / "security" / "accepted.toml"
MIN_REASON_CHARS = 40
MIN_REASON_WORDS = 6
_PLACEHOLDERS = {"todo", "tbd", "n/a", "na", "none", "ok", "fine", "accepted", "false positive", "wontfix", "-"}
# kind -> (required keys, optional keys)
FIELDS = {"bandit": ({"test", "path", "match", "reason"}, {"issue"}),
          "dependency": ({"package", "id", "reason"}, {"version"}),
          "pmd": ({"rule", "path", "reason"}, {"match"})}


def canonical(name: str) -> str:
    """PEP 503 normalised project name: `Pillow_HEIF` -> `pillow-heif`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def collapse(text: str) -> str:
    return " ".join(text.split())


def rel(path: Path | str, root: Path = ROOT) -> str:
    """`path` relative to the repository root, with forward slashes."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


class Finding(Protocol):
    kind: str  # the [[table]] of accepted.toml that can accept it

    def accepted_by(self, fields: dict) -> bool: ...

    def describe(self) -> str: ...


@dataclass
class Acceptance:
    kind: str  # "bandit", "dependency" or "pmd"
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
        if self.kind == "pmd":
            return f"[[pmd]] #{self.number} {f.get('rule')} {f.get('path')} match={f.get('match')!r}"
        version = f" version={f.get('version')}" if "version" in f else ""
        return f"[[dependency]] #{self.number} {f.get('package')} id={f.get('id')}{version}"

    def matches(self, finding: Finding) -> bool:
        return self.valid and finding.kind == self.kind and finding.accepted_by(self.fields)


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


def _entry(kind: str, number: int, table) -> Acceptance:
    if not isinstance(table, dict):
        return Acceptance(kind, number, {}, ["is not a table"])
    required, optional = FIELDS[kind]
    entry = Acceptance(kind, number, table)
    entry.problems += [f"lacks {key!r}" for key in sorted(required - set(table))]
    entry.problems += [f"has unknown key {key!r}" for key in sorted(set(table) - required - optional)]
    entry.problems += [f"{key!r} must be a non-empty string"
                       for key in sorted((required | optional) & set(table) - {"reason"})
                       if not isinstance(table[key], str) or not table[key].strip()]
    problem = reason_problem(table.get("reason"))
    if problem:
        entry.problems.append(problem)
    if kind == "bandit" and isinstance(table.get("test"), str) and not re.fullmatch(r"B\d{3}", table["test"]):
        entry.problems.append(f"test {table['test']!r} is not a bandit test id (B101...)")
    return entry


def parse_acceptances(text: str, origin: str = "accepted.toml") -> tuple[list[Acceptance], list[str]]:
    """The entries of an acceptance file, each with its problems, and problems of the file itself."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{origin}: not valid TOML ({exc})"]
    file_problems = [f"{origin}: unknown top-level key {key!r} (use [[bandit]], [[dependency]] or [[pmd]] tables)"
                     for key in data if key not in FIELDS]
    entries: list[Acceptance] = []
    seen: dict[tuple, int] = {}
    for kind in FIELDS:
        tables = data.get(kind, [])
        if not isinstance(tables, list):
            file_problems.append(f"{origin}: {kind} must be an array of tables ([[{kind}]])")
            continue
        for number, table in enumerate(tables, start=1):
            entry = _entry(kind, number, table)
            entries.append(entry)
            if not isinstance(table, dict):
                continue
            identity = (kind,) + tuple(sorted((k, str(v)) for k, v in table.items() if k != "reason"))
            if identity in seen:
                entry.problems.append(f"duplicates entry #{seen[identity]}")
            seen.setdefault(identity, number)
    return entries, file_problems


def load_acceptances(path: Path = ACCEPTED) -> tuple[list[Acceptance], list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [], [f"cannot read the acceptance file {path}: {exc}"]
    return parse_acceptances(text, origin=rel(path))


def invalid_entries(entries: list[Acceptance], file_problems: list[str]) -> list[str]:
    """Every problem of the file and of its entries, one line each."""
    return file_problems + [f"{e.label()}: {'; '.join(e.problems)}" for e in entries if not e.valid]


# -- reconciliation ------------------------------------------------------------------------------
@dataclass
class Section:
    name: str
    findings: list = field(default_factory=list)
    accepted: list[tuple[Finding, list[Acceptance]]] = field(default_factory=list)
    unaccepted: list = field(default_factory=list)
    stale: list[Acceptance] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"== {self.name}: {len(self.findings)} findings, {len(self.accepted)} accepted, "
               f"{len(self.unaccepted)} NOT accepted"]
        out += [f"   NOT ACCEPTED: {f.describe()}" for f in self.unaccepted]
        out += [f"   STALE ACCEPTANCE (matches no current finding; remove it): {a.label()}" for a in self.stale]
        for f, by in self.accepted:
            reason = collapse(by[0].fields["reason"])
            reason = reason if len(reason) <= 150 else reason[:149] + "…"
            out.append(f"   accepted: {f.describe().splitlines()[0]}\n      reason: {reason}")
        return out


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
