"""The composition root: the one place that turns settings into adapters."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from core.adapters.db import Database, make_database
from core.adapters.media import MediaStore
from core.adapters.uow import UnitOfWork
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.verification.policy import ScanPolicy


@dataclass(frozen=True)
class App:
    settings: Settings
    db: Database
    # Built here once, used by every entry point (worker, verification API, dashboard, CLI).
    scan_policy: ScanPolicy = field(init=False, repr=False, compare=False)
    media: MediaStore = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "scan_policy", ScanPolicy(self.db, self.settings))
        object.__setattr__(self, "media", MediaStore(self.settings.var_dir / "media"))

    def uow(self, correlation_id: str | None = None) -> UnitOfWork:
        return UnitOfWork(self.db, self.settings.audit_key, correlation_id)

    def salesforce(self):
        """A gateway to the configured org (the demo org in demo mode), or None when there is none."""
        if self.settings.salesforce is None:
            return None
        from core.adapters.salesforce.gateway import SalesforceGateway

        return SalesforceGateway(self.settings.salesforce)


def build(settings: Settings | None = None) -> App:
    settings = settings or get_settings()
    return App(settings=settings, db=make_database(settings.database_url))


@lru_cache(maxsize=1)
def get_app() -> App:
    return build()


def migrate(database_url: str | None = None) -> None:
    """Bring the database schema to the latest revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    config.attributes["configure_logging"] = False
    if config.attributes["database_url"].startswith("sqlite"):
        make_database(config.attributes["database_url"]).dispose()  # creates the folder
    command.upgrade(config, "head")
