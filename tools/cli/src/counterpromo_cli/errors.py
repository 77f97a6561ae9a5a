"""One clear line and exit code 1 instead of a traceback."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.exc import OperationalError

from counterpromo_cli.output import err_console


def fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


@contextmanager
def database_errors(url_label: str) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise fail(f"cannot reach the database at {url_label}: {reason}") from None


ErrorMapper = Callable[[], None]
