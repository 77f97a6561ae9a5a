"""The README's examples run as written (doctest), so they cannot rot."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from counterpromo_testing.databases import ENV_VAR, DatabaseServer

README = Path(__file__).parents[1] / "README.md"


def test_readme_examples_run(
    postgres_server: DatabaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example asks counterpromo-testing for a server: give it this session's.
    monkeypatch.setenv(ENV_VAR, postgres_server.admin_url)
    result = doctest.testfile(
        str(README),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 9
    assert result.failed == 0
