"""Running a command from the console: once per click, in a live session, caches cleared after a
write. Success is confirmed by a toast; a refusal is shown where the action was asked for (inside its
dialog or form, whose widgets keep what was typed), or as a toast when it came from a lone button.
Both survive a rerun in session_state as plain text."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import streamlit as st

from core.domain.errors import DomainError
from ui.context import action_refusal

TOASTS_KEY = "action_toasts"
ERRORS_KEY = "action_errors"
DONE_KEY = "done_action_tokens"
DONE_ICON, ERROR_ICON = ":material/check_circle:", ":material/error:"


def toast(text: str, *, error: bool = False) -> None:
    """Shown by the next show_toasts() (this run's or the next's), so a rerun cannot swallow it."""
    st.session_state.setdefault(TOASTS_KEY, []).append((text, error))


def show_toasts() -> None:
    for text, error in st.session_state.pop(TOASTS_KEY, []):
        st.toast(text, icon=ERROR_ICON if error else DONE_ICON, duration="long" if error else "short")


def refuse(text: str, place: str | None = None) -> None:
    """Say why nothing was done: inside `place` (a dialog or form calls show_errors(place)), or as a toast."""
    text = text[:1].upper() + text[1:]  # the commands' messages start lower case, to read inside a sentence
    if place is None:
        toast(text, error=True)
    else:
        st.session_state.setdefault(ERRORS_KEY, {})[place] = text


def show_errors(place: str) -> bool:
    """The refusal of the last action asked for from `place`, shown there; True when there was one."""
    text = st.session_state.get(ERRORS_KEY, {}).pop(place, None)
    if text:
        st.error(text, icon=ERROR_ICON)
    return bool(text)


def new_token() -> str:
    return uuid.uuid4().hex


def run_action(fn: Callable, *, done: str | Callable[[object], str], token: str | None = None,
               place: str | None = None, **kwargs):
    """Call a command once per token, in a live session. DomainError and ValueError are refused with
    their message (see refuse). Returns the command's result (True for None), or None when it failed,
    was refused or had already run."""
    if place is not None:
        st.session_state.setdefault(ERRORS_KEY, {}).pop(place, None)
    if refusal := action_refusal():
        refuse(refusal, place)
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
        if token is not None:  # refused, so nothing ran: the same click may be tried again
            st.session_state[DONE_KEY].remove(token)
        refuse(str(exc), place)
        return None
    st.cache_data.clear()
    toast(done(result) if callable(done) else done)
    return result if result is not None else True
