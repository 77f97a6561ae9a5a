"""The README's examples run as written (doctest), so they cannot rot."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from counterpromo_storage.testing.moto_server import LOCAL_CREDENTIALS

README = Path(__file__).parents[1] / "README.md"


def test_readme_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOCAL_CREDENTIALS:  # the example sets them: put them back afterwards
        monkeypatch.setenv(name, "placeholder")
    result = doctest.testfile(
        str(README),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 20
    assert result.failed == 0
