"""The dashboard app under Streamlit's AppTest, as a fixture the dashboard tests share
(registered in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import streamlit as st
import warehouses
from streamlit.testing.v1 import AppTest

from reporter.warehouse import PROJECT_DIR

APP = str(PROJECT_DIR / "dashboards" / "dashboard.py")
ENV_NAMES = (
    "DBT_PROFILES_DIR",
    "DBT_TARGET",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "SLACK_WEBHOOK_URL",
    "SLACK_API_URL",
    "DASHBOARD_URL",
    "REPORT_LANG",
    "REPORT_MIN_N",
    "DBT_VARS",
    "REPORT_DISPLAY_TZ",
)


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Run the app against a warehouse, with a clean environment and empty query caches."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()

    def run(warehouse: warehouses.TestWarehouse, week: str | None = None, **env: str) -> AppTest:
        monkeypatch.setenv("DBT_PROFILES_DIR", str(warehouse.profiles_dir))
        monkeypatch.setenv("DBT_TARGET", warehouse.target)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        app = AppTest.from_file(APP, default_timeout=120)
        if week is not None:
            app.query_params["week"] = week
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return run
