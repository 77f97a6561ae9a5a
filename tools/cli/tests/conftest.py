"""The CLI in-process against this module's migrated PostgreSQL database."""

from __future__ import annotations

import pytest
from counterpromo_cli.testing import Cli


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return Cli()
