"""Which pages each role reaches, what waits on them, and where each role lands.

app.py builds the navigation from this table. Every page is registered in every state, so a link
always finds its page: signed out, each shows the sign-in form in place (and after sign-in the page
itself, with the link's query); signed in, a page the role may not open is registered hidden and
app.py answers it in words. Pages with a narrower audience check it again, so a page missing from a
role's navigation is also refused when opened any other way."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.domain.roles import HUMAN_ROLES, Actor, Role
from core.queries.waiting import Waiting, waiting_for
from ui.context import SIGN_IN_PAGE, app, sign_out

EVERYONE = frozenset(HUMAN_ROLES)


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: frozenset[Role] = EVERYONE

    @property
    def url_path(self) -> str:
        return Path(self.path).stem


SECTIONS: dict[str, tuple[PageSpec, ...]] = {
    "Respond": (
        PageSpec("pages/live.py", "Live", ":material/monitoring:"),
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
ALL_PAGES = tuple(p for pages in SECTIONS.values() for p in pages)

# What waits on a page, in words beside its title: (count field of Waiting, words).
BADGES: dict[str, tuple[tuple[str, str], ...]] = {
    "pages/review.py": (("to_claim", "to claim"), ("releases_to_approve", "to approve")),
    "pages/communications.py": (("messages_to_approve", "to approve"),),
    "pages/incidents.py": (("clocks_overdue", "overdue"), ("clocks_due_soon", "due soon")),
}


def pages_for(role: Role) -> dict[str, list[PageSpec]]:
    """The navigation of one role: its sections, each with the pages the role may open."""
    visible = {name: [p for p in pages if Role(role) in p.roles] for name, pages in SECTIONS.items()}
    return {name: pages for name, pages in visible.items() if pages}


def roles_for(path: str) -> frozenset[Role]:
    return next(p.roles for p in ALL_PAGES if p.path == path)


def landing(role: Role, waiting: Waiting) -> str:
    """The page a role opens first: where its work waits."""
    if role is Role.REVIEWER:
        return "pages/review.py"
    if role is Role.COMPLIANCE_LEAD:  # approvals: messages (their clocks run) before releases
        return "pages/review.py" if waiting.releases_to_approve and not waiting.messages_to_approve \
            else "pages/communications.py"
    if role is Role.RESPONDER:
        return "pages/incidents.py" if waiting.clocks_overdue else "pages/live.py"
    return {Role.ADMIN: "pages/settings.py", Role.AUDITOR: "pages/audit.py"}[Role(role)]


def title(spec: PageSpec, waiting: Waiting) -> str:
    counts = [f"{getattr(waiting, field)} {words}" for field, words in BADGES.get(spec.path, ())
              if getattr(waiting, field)]
    return f"{spec.title} · {', '.join(counts)}" if counts else spec.title


@st.cache_data(ttl=15, max_entries=256, show_spinner=False)
def waiting(person: str, role: Role) -> Waiting:
    """Counts for the navigation; run_action clears the cache after every change."""
    return waiting_for(app().db, person=person, role=role)


def signed_out_pages() -> list:
    """The sign-in form, under its own address and under every page's, so a link keeps its page."""
    return [st.Page(SIGN_IN_PAGE, title="Sign in", icon=":material/login:", default=True),
            *(st.Page(SIGN_IN_PAGE, title=p.title, url_path=p.url_path) for p in ALL_PAGES)]


def signed_in_pages(actor: Actor) -> dict[str, list]:
    """The role's pages by section, each titled with what waits there; the others hidden, so that
    their address answers in words (app.py) instead of "Page not found". The root address is the
    hidden sign-in page, which sends a signed-in person on to their landing page: Streamlit serves a
    default page only at the root, so no page of the product may be the default, or its own address
    (a link to /review?item=147) would be "not found"."""
    now = waiting(actor.id, actor.role)
    sections = {name: [st.Page(p.path, title=title(p, now), icon=p.icon, url_path=p.url_path) for p in pages]
                for name, pages in pages_for(actor.role).items()}
    closed = [st.Page(p.path, title=p.title, url_path=p.url_path, visibility="hidden")
              for p in ALL_PAGES if actor.role not in p.roles]
    return {**sections,
            "Account": [st.Page(sign_out, title=f"Sign out ({actor.id})", icon=":material/logout:", url_path="sign-out"),
                        st.Page(SIGN_IN_PAGE, title="Sign in", visibility="hidden", default=True), *closed]}


def refusal(url_path: str, role: Role) -> str | None:
    """Why this role may not open the page at this address, in words; None when it may."""
    spec = next((p for p in ALL_PAGES if p.url_path == url_path), None)
    if spec is None or Role(role) in spec.roles:
        return None
    audience = " and ".join(sorted(f"{r.value.replace('_', ' ')}s" for r in spec.roles))
    return (f"{spec.title} is open to {audience} only. You are signed in as "
            f"{Role(role).value.replace('_', ' ')}: your pages are in the menu on the left.")
