"""Time in one place, always timezone-aware UTC."""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_NOW: ContextVar[datetime | None] = ContextVar("now", default=None)


def utcnow() -> datetime:
    return _NOW.get() or datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Within this block, in this thread only, it is `moment`. For the demo org's history alone
    (core/demo/history.py): its past is written by the product's own commands on the days it happened."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; the clock is UTC")
    token = _NOW.set(moment)
    try:
        yield
    finally:
        _NOW.reset(token)
