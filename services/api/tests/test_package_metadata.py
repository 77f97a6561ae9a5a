"""The package is installed under its own name and version."""

from importlib.metadata import version

import counterpromo_api


def test_version_matches_distribution() -> None:
    assert counterpromo_api.__version__ == version("counterpromo-api")
