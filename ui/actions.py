"""Running a service from a button callback: once per click, errors shown as messages, caches
cleared after a write. Messages survive the rerun in session_state as plain text."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import streamlit as st

from core.domain.errors import DomainError
from ui.context import action_refusal

FLASH_KEY = "flash_messages"
DONE_KEY = "done_action_tokens"


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH_KEY, []):
        (st.success if kind == "success" else st.error)(text, icon=None)


def new_token() -> str:
    return uuid.uuid4().hex


def run_action(fn: Callable, *, done: str | Callable[[object], str], token: str | None = None, **kwargs):
    """Call a service once per token, in a live session. DomainError and ValueError become an error
    message. Returns the service's result, or None when it failed, was refused or had already run."""
    if refusal := action_refusal():
        flash("error", refusal)
        return None
    if token is not None:
        seen = st.session_state.setdefault(DONE_KEY, [])
        if token in seen:
            return None
        seen.append(token)
        del seen[:-50]
    try:
        result = fn(**kwargs)
    except (DomainError, ValueError) as exc:
        flash("error", str(exc))
        return None
    st.cache_data.clear()
    flash("success", done(result) if callable(done) else done)
    return result if result is not None else True
