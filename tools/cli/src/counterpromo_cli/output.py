"""Consoles for people (rich) and for scripts (--json).

``console`` and ``err_console`` are made on first use: importing this module (which every
command does) must not import ``rich.console``, so that ``--help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A ``rich.console.Console`` built on the first attribute access."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


_out = _LazyConsole()
_err = _LazyConsole(stderr=True)
console = cast("Console", _out)
err_console = cast("Console", _err)


def progress_console() -> Console:
    """The real stderr console, for ``rich.progress.Progress(console=...)``."""
    return _err.get()


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


def print_fields(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """A two-column table of one object's fields."""
    print_table(title, ["field", "value"], fields)
