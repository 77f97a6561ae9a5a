"""One clear line and exit code 1 instead of a traceback.

Each context manager below turns one family of failures (database, domain,
AWS, configuration) into a single ``error: ...`` line on stderr. The libraries whose errors
they catch are imported when a block runs, never when this module is imported.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from counterpromo_cli.output import err_console


def fail(message: str) -> typer.Exit:
    from rich.text import Text

    err_console.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)
    return typer.Exit(code=1)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text


@contextmanager
def database_errors(url_label: str) -> Iterator[None]:
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        reason = _first_line(str(exc.orig)) if exc.orig else _first_line(str(exc))
        raise fail(f"cannot reach the database at {url_label}: {reason}") from None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Core's typed errors: a wrong name or id, a rule that said no."""
    from counterpromo_core.errors import DomainError, NotFound

    try:
        yield
    except NotFound as exc:
        raise fail(f"no {exc.resource} {exc.id}") from None
    except DomainError as exc:
        raise fail(exc.message) from None
