"""counterpromo-cli."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Read from the installed metadata only when asked (``--version``): importing
    # importlib.metadata costs start-up time that ``--help`` should not pay.
    if name == "__version__":
        from importlib.metadata import version

        return version("counterpromo-cli")
    raise AttributeError(name)
