"""The structure holds by tools, not by hand: import-linter's layer contracts, ruff and mypy (all
configured in pyproject.toml) pass; a deliberately wrong import is reported; pages import only what
pages may; the customer-record rule and the audit trail's vocabulary each have one home."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.domain.audit_actions import MEANINGS, AuditAction
from core.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
PAGE_MAY_IMPORT = ("ui", "core.commands", "core.queries", "core.loops", "core.domain", "core.clock", "core.settings")


def run(tool: str, *args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# -- the tools pass -------------------------------------------------------------------------------
def test_layer_contracts_hold():
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "4 kept, 0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = run("ruff", "check", ".", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_strict_and_clean_on_the_domain_and_the_commands():
    result = run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found" in result.stdout


# -- and they would catch a wrong import -----------------------------------------------------------
@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the packages and their contracts, to plant wrong imports in."""
    for name in ("core", "ui"):
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("where", "line", "contract", "named"), [
    ("core/domain/shortcut.py", "from core.adapters.db import Database\n",
     "The domain is plain Python: it imports nothing of ours but the domain BROKEN", "core.domain.shortcut"),
    ("core/domain/reads_files.py", "import tomllib\n", "The domain does no I/O BROKEN", "core.domain.reads_files"),
    ("core/commands/peeks.py", "from core.queries import items\n", "Layers, top to bottom BROKEN",
     "core.commands.peeks -> core.queries.items"),
    ("core/adapters/upward.py", "from core.commands import items\n", "Layers, top to bottom BROKEN",
     "core.adapters.upward -> core.commands.items"),
])
def test_a_wrong_import_is_reported_by_the_contract_check(tree, where, line, contract, named):
    (tree / where).write_text(f'"""A planted wrong import."""\n{line}')
    result = run("lint-imports", "--no-cache", cwd=tree)
    assert result.returncode == 1
    assert contract in result.stdout and named in result.stdout, result.stdout


# -- pages ------------------------------------------------------------------------------------------
def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("page", sorted((PROJECT_ROOT / "pages").glob("*.py")) + [PROJECT_ROOT / "app.py"],
                         ids=lambda p: p.name)
def test_pages_import_only_ui_commands_queries_and_the_domain(page):
    ours = {m for m in _imports(page) if m.split(".")[0] in ("core", "ui")}
    wrong = sorted(m for m in ours if not any(m == a or m.startswith(a + ".") for a in PAGE_MAY_IMPORT))
    assert not wrong, f"{page.name} reaches below commands and queries: {wrong}"


# -- one home per rule ----------------------------------------------------------------------------
def test_every_audit_action_has_a_meaning():
    assert set(MEANINGS) == set(AuditAction)
    assert all(len(MEANINGS[a].split()) >= 5 for a in AuditAction)


def _record_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("record", "record_claim") and len(node.args) >= 2:
            yield node


def _action_names(arg: ast.expr) -> list[str] | None:
    """AuditAction members an action argument can be (both arms of a conditional), or None."""
    if isinstance(arg, ast.IfExp):
        body, orelse = _action_names(arg.body), _action_names(arg.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "AuditAction":
        return [arg.attr]
    return None


def test_every_audit_action_written_anywhere_is_a_member_of_the_enum():
    """Every call that writes the trail names AuditAction members (or passes one on from a caller
    that did); the unit of work refuses anything else at run time (tests/unit/test_architecture.py
    checks both)."""
    calls, passed_on, problems = 0, 0, []
    for path in sorted((PROJECT_ROOT / "core").rglob("*.py")):
        for call in _record_calls(ast.parse(path.read_text(), filename=str(path))):
            calls += 1
            names = _action_names(call.args[1])
            if names is None:
                if isinstance(call.args[1], ast.Name) and call.args[1].id == "action":
                    passed_on += 1  # a helper's parameter, typed AuditAction (mypy checks the callers)
                    continue
                problems.append(f"{path.relative_to(PROJECT_ROOT)}:{call.lineno} writes {ast.unparse(call.args[1])}")
            else:
                problems += [f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}: no AuditAction.{n}"
                             for n in names if n not in AuditAction.__members__]
    assert calls > 50 and passed_on < 10
    assert not problems, "\n".join(problems)


def test_the_trail_refuses_an_action_that_is_not_in_the_enum(sqlite_app):
    from core.domain.roles import Actor

    uow = sqlite_app.uow()
    with uow, pytest.raises(TypeError, match="not an AuditAction"):
        uow.record(Actor.system("test"), "item.vanished", "media_item", 1)


CUSTOMER_LINKS = [
    ({"entity_id": "001A00000000001", "entity_type": "Account"}, True),
    ({"entity_id": "003A00000000001", "entity_type": "Contact"}, True),
    ({"entity_id": "a0K000000000001", "entity_type": "KYC_Check__c"}, True),
    ({"entity_id": "005A00000000001", "entity_type": "User"}, False),
    ({"entity_id": "00GA0000000001A", "entity_type": "Group"}, False),
    ({"entity_id": "058A0000000001A", "entity_type": "ContentWorkspace"}, False),
    ({"entity_id": "005A00000000002", "entity_type": None}, False),   # type not read: the id decides
    ({"entity_id": "001A00000000002", "entity_type": None}, True),
]


def test_the_customer_record_rule_gives_the_same_answer_wherever_it_is_used():
    """Quarantine (what the relay cuts), the review Case, message content and customers affected all
    ask core.domain.records; no module keeps a copy of the rule."""
    import core.adapters.incident_records as records_reads
    import core.commands.message_content as content
    import core.commands.salesforce_sync as sync
    import core.loops.ingest as ingest
    import core.loops.salesforce_relay as relay
    from core.domain import records

    for module in (records_reads, content, sync, ingest, relay):
        assert module.is_customer_record is records.is_customer_record, module.__name__
    assert [records.is_customer_record(link) for link, _ in CUSTOMER_LINKS] == [want for _, want in CUSTOMER_LINKS]
    copies = [str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "core").rglob("*.py")
              if p.name != "records.py" and ('"User", "Group"' in p.read_text() or "entity_type\") not in" in p.read_text())]
    assert copies == []


def test_customers_affected_and_the_case_agree_with_the_rule():
    from core.domain.incidents import affected_customers
    from core.domain.records import is_customer_record

    links = [link for link, _ in CUSTOMER_LINKS]
    kept = [link for link in links if is_customer_record(link)]
    affected = affected_customers({1: kept})
    assert {r["id"] for r in affected["records"]} == {link["entity_id"] for link, want in CUSTOMER_LINKS if want}
