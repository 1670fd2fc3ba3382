"""Moving a person's server-side sessions back in time, as the clock would: the idle limit and the
lifetime are judged from these rows (core.domain.sessions), whichever tab or browser asks."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.bootstrap import App
from core.clock import utcnow
from core.models import UserSession


def age_sessions(app: App, email: str, *, idle: timedelta | None = None, lived: timedelta | None = None) -> int:
    """Last use `idle` ago and start `lived` ago for each of the person's open sessions; how many."""
    values = {**({"last_seen_at": utcnow() - idle} if idle else {}),
              **({"started_at": utcnow() - lived} if lived else {})}
    with app.db.writer() as s:
        changed = s.execute(update(UserSession).where(UserSession.email == email, UserSession.revoked_at.is_(None))
                            .values(**values)).rowcount
        s.commit()
    return changed


def sessions_of(app: App, email: str) -> list[UserSession]:
    with app.db.reader() as s:
        return list(s.execute(select(UserSession).where(UserSession.email == email)
                              .order_by(UserSession.started_at)).scalars())
