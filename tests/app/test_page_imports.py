"""Pages lay out widgets and call core; they never reach infrastructure directly."""
import ast
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

FORBIDDEN = {"sqlmodel", "sqlalchemy", "simple_salesforce", "smtplib", "onnxruntime"}
PAGE_FILES = sorted((PROJECT_ROOT / "pages").glob("*.py")) + [PROJECT_ROOT / "app.py"]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_pages_to_check():
    assert len(PAGE_FILES) >= 8


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_page_does_not_import_infrastructure(path):
    bad = imported_modules(path) & FORBIDDEN
    assert not bad, f"{path.name} imports {sorted(bad)}: go through core services and queries"


def test_the_check_catches_a_forbidden_import(tmp_path):
    page = tmp_path / "bad.py"
    page.write_text("import streamlit as st\nfrom sqlalchemy import select\nimport smtplib\n")
    assert imported_modules(page) & FORBIDDEN == {"sqlalchemy", "smtplib"}


def test_core_never_imports_streamlit():
    offenders = [p for p in (PROJECT_ROOT / "core").rglob("*.py") if "streamlit" in imported_modules(p)]
    assert not offenders
