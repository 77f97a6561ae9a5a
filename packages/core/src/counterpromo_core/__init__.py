"""Counter Promo domain: model, schema, migrations and use-cases."""

from typing import Any


def __getattr__(name: str) -> Any:
    # ``__version__`` is read from the installed metadata when asked: importlib.metadata is
    # start-up time that a light import (the CLI's logging setup) should not pay.
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - only when asked

        return version("counterpromo-core")
    raise AttributeError(name)
