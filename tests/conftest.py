"""Shared fixtures: a migrated database per test, on SQLite and on a throwaway PostgreSQL."""
from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from core.bootstrap import App, build, migrate
from core.settings import Settings
from tests import pg

TEST_AUDIT_KEY = b"test-audit-key-not-a-secret-0123456789"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests (marked `slow`) first: the test processes start on them at once and the short
    tests fill in around them, instead of one long test starting last and running alone at the end.
    A stable sort, so every xdist process collects the same order.

    The tests of one browser module share one server and one Chromium, and a flow may go on from where
    the one before it left the data (the console flows do): under `--dist loadgroup` (make test) each
    browser module runs in one test process, in file order, instead of its tests being dealt out to
    several processes, each starting its own server with fresh data."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(f"browser-{item.module.__name__}"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail loudly when `--dist loadgroup` would not keep a group together: xdist marks a grouped test by
    a suffix on its node id, which some pytest releases silently drop (pytest-dev/pytest-xdist#1386);
    the browser flows and the CPU-bound pipeline tests then race each other instead."""
    if not getattr(session.config.option, "loadgroup", False):  # only in an xdist worker under loadgroup
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"--dist loadgroup lost the xdist groups of {len(lost)} tests (first: {lost[0]}); "
                                "see pytest-dev/pytest-xdist#1386 and the pytest pin in requirements-dev.txt")


def make_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    return Settings(database_url=database_url or f"sqlite:///{tmp_path / 'rd.db'}",
                    var_dir=tmp_path, audit_key=TEST_AUDIT_KEY, demo_mode=True)


@pytest.fixture
def sqlite_app(tmp_path) -> App:
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    app = build(settings)
    yield app
    app.db.dispose()


@pytest.fixture(scope="session")
def pg_cluster():
    """One cluster per test session; each test gets its own database cloned from a migrated template."""
    bindir = pg.find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found and CI is set: PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql); skipping PostgreSQL tests")
    cluster = pg.Cluster(bindir)
    cluster.start()
    pg.wait_ready(cluster.url())
    import psycopg

    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE DATABASE rd_template")
    migrate(cluster.url("rd_template"))
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_app(pg_cluster, tmp_path) -> App:
    import psycopg

    name = f"rd_{uuid.uuid4().hex[:12]}"
    admin = pg_cluster.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE rd_template')
    app = build(make_settings(tmp_path, pg_cluster.url(name)))
    yield app
    app.db.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request) -> App:
    """A migrated database on each engine the product supports."""
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def emu():
    """The local Salesforce emulator over HTTPS, with Response Desk's metadata deployed."""
    from sf_emulator import run_emulator
    from tests.sf import deploy_metadata

    with run_emulator(seed="empty") as emulator:
        deploy_metadata(emulator)
        yield emulator


@pytest.fixture
def gateway(emu):
    from core.adapters.salesforce.gateway import SalesforceGateway
    from tests.sf import settings_for

    return SalesforceGateway(settings_for(emu))


def enroll(app: App, *actors) -> None:
    """Accounts for the people a test acts as: services read each person's role from their account."""
    from sqlalchemy import select

    from core.commands.users import create_user
    from core.domain.roles import Actor
    from core.models import User

    with app.db.reader() as s:
        known = set(s.execute(select(User.email)).scalars())
    for actor in actors:
        if actor.is_person and actor.id not in known:
            create_user(app.uow(), actor=Actor.system("test"), email=actor.id, role=actor.role)
            known.add(actor.id)


APP_FIXTURES = ("any_app", "sqlite_app", "pg_app", "ui_app")


def accounts(*actors):
    """An autouse fixture for a test module: `_accounts = accounts(ALICE, BOB)` gives each person the
    module acts as an account in whichever app the test uses."""
    @pytest.fixture(autouse=True)
    def _accounts(request):
        for name in APP_FIXTURES:
            if name in request.fixturenames:
                enroll(request.getfixturevalue(name), *actors)
    return _accounts


def mode(path: Path) -> int:
    """A file's permission bits (0o600, 0o700...)."""
    return stat.S_IMODE(Path(path).stat().st_mode)


@pytest.fixture
def open_umask():
    """A umask that takes nothing away: only modes the product sets itself keep files private."""
    previous = os.umask(0)
    yield
    os.umask(previous)
