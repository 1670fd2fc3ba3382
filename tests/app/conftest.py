"""AppTest runs the scripts in this process: point core at a fresh database and clear caches."""
import os

import pytest
import streamlit as st

from core import bootstrap, settings
from core.commands import users
from tests.conftest import TEST_AUDIT_KEY


@pytest.fixture
def ui_app(tmp_path, monkeypatch):
    monkeypatch.setenv("RD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setenv("RD_AUDIT_KEY", TEST_AUDIT_KEY.decode())
    monkeypatch.setenv("RD_DEMO", "true")
    if "RD_SECRETS_FILE" not in os.environ:  # a developer's own secrets.toml must not change the tests
        monkeypatch.setenv("RD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    bootstrap.migrate()
    app = bootstrap.get_app()
    users.sync_demo_accounts(app.db, app.uow, demo_mode=True)  # as at start-up: one account per role
    yield app
    app.db.dispose()
    settings.get_settings.cache_clear()
    bootstrap.get_app.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
