"""Which pages each role reaches. app.py builds the navigation from this table and pages with a
narrower audience check it again, so a page missing from a role's navigation is also refused when
opened any other way."""
from __future__ import annotations

from dataclasses import dataclass

from core.domain.roles import HUMAN_ROLES, Role

EVERYONE = frozenset(HUMAN_ROLES)


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: frozenset[Role] = EVERYONE
    default: bool = False


SECTIONS: dict[str, tuple[PageSpec, ...]] = {
    "Respond": (
        PageSpec("pages/live.py", "Live", ":material/monitoring:", default=True),
        PageSpec("pages/incidents.py", "Incidents", ":material/crisis_alert:"),
        PageSpec("pages/communications.py", "Communications", ":material/campaign:"),
        PageSpec("pages/check_file.py", "Check a file", ":material/upload_file:"),
    ),
    "Review": (PageSpec("pages/review.py", "Review queue", ":material/fact_check:"),),
    "Prove": (
        PageSpec("pages/trends.py", "Trends", ":material/trending_up:"),
        PageSpec("pages/audit.py", "Audit", ":material/verified:"),
    ),
    # Admins change settings; auditors read every one of them and change none.
    "Admin": (PageSpec("pages/settings.py", "Settings", ":material/settings:",
                       roles=frozenset({Role.ADMIN, Role.AUDITOR})),),
}


def pages_for(role: Role) -> dict[str, list[PageSpec]]:
    """The navigation of one role: its sections, each with the pages the role may open."""
    visible = {name: [p for p in pages if Role(role) in p.roles] for name, pages in SECTIONS.items()}
    return {name: pages for name, pages in visible.items() if pages}


def roles_for(path: str) -> frozenset[Role]:
    return next(p.roles for pages in SECTIONS.values() for p in pages if p.path == path)
