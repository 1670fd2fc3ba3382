"""Reads the regulatory clock rules from the file the settings name (data/regulatory_clocks.toml by
default, RD_CLOCKS_FILE to replace it); core.domain.clocks parses and evaluates them."""
from __future__ import annotations

import tomllib
from pathlib import Path

from core.domain.clocks import ClockRule, parse_rules


def load_rules(path: Path | None = None) -> list[ClockRule]:
    if path is None:
        from core.settings import get_settings

        path = get_settings().clocks_file
    with Path(path).open("rb") as fh:
        return parse_rules(tomllib.load(fh))
