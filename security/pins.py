"""The pinned dependency set. constraints.txt is the full frozen set and the one the dependency audit
covers; requirements.txt and requirements-dev.txt must pin the same versions, or the audit would judge
versions that are not the ones installed."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from security.acceptances import ROOT, canonical, rel

CONSTRAINTS = ROOT / "constraints.txt"
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(;.*)?")


def read_pins(path: Path) -> tuple[dict[str, str], list[str]]:
    """{canonical name: pinned version} of a requirements/constraints file, and lines that are not
    exact pins (`-r` includes and comments are skipped)."""
    pins, problems = {}, []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = _PIN.fullmatch(line)
        if not m:
            problems.append(f"{rel(path)}:{number}: {line!r} is not an exact pin (name==version)")
            continue
        pins[canonical(m.group(1))] = m.group(3)
    return pins, problems


def pin_problems(constraints: Path = CONSTRAINTS, requirements: Iterable[Path] = REQUIREMENTS) -> list[str]:
    """Lines that are not exact pins, and requirement pins that constraints.txt does not hold."""
    pins, problems = read_pins(constraints)
    for req in requirements:
        if not req.exists():
            continue
        wanted, req_problems = read_pins(req)
        problems += req_problems
        problems += [f"{rel(req)} pins {name}=={version} but {rel(constraints)} has "
                     f"{pins.get(name, 'no pin')}: the dependency audit covers constraints.txt only"
                     for name, version in sorted(wanted.items()) if pins.get(name) != version]
    return problems
