"""The CLI in-process against this module's migrated PostgreSQL database."""

from __future__ import annotations

import pytest
from counterpromo_cli.testing import Cli

# The [testing] extras' pytest plugins are opt-in: registered here, nowhere else.
pytest_plugins = ["counterpromo_storage.testing.plugin", "counterpromo_billing.testing.plugin"]


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return Cli()
