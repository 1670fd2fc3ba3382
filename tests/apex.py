"""The Apex checks' tools in tests: node with tools/apex's npm packages, and java for PMD."""
from __future__ import annotations

import os

import pytest

from security.apex import missing_tools


def require_apex_tools(*, java: bool = True) -> None:
    """Skip without the tools, except in CI, where the Apex checks must run."""
    missing = missing_tools(java=java)
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the Apex checks must run in CI: {missing}")
    pytest.skip(missing)
