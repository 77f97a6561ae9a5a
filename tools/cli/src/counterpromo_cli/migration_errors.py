"""Every failure of a migration command as ONE line: what, where, what to do; never a traceback.

Migrations and adoption run in one transaction, so whatever failed, nothing was
changed; the messages say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from counterpromo_cli.errors import fail

UNCHANGED = "nothing was changed (one transaction, rolled back)"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text


def _database_message(command: str, exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    table = getattr(diag, "table_name", None) if diag is not None else None
    where = f" on table {table}" if table else ""
    hint = "fix the cause and re-run"
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "42P07":  # duplicate_table
        hint = (
            "a table our migrations create already exists and is neither ours nor the original"
            " application's: rename or drop it by hand, then re-run"
        )
    elif sqlstate == "42501":  # insufficient_privilege
        hint = "the database user needs CREATE on the database (schema legacy) and the tables"
    return f"{command} failed{where}: {_first_line(str(orig))}; {UNCHANGED}; {hint}"


@contextmanager
def migration_errors(command: str) -> Iterator[None]:
    """Adoption errors, SQL errors and alembic errors become one ``error:`` line and exit 1.

    Connection failures are left to ``errors.database_errors`` (outside this block).
    """
    from alembic.util import CommandError
    from counterpromo_core.legacy import AdoptionError
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except AdoptionError as exc:
        raise fail(f"{command}: {exc.message}") from None
    except OperationalError as exc:
        if exc.connection_invalidated or "connect" in str(exc).lower()[:200]:
            raise
        raise fail(_database_message(command, exc)) from None
    except DBAPIError as exc:
        raise fail(_database_message(command, exc)) from None
    except CommandError as exc:
        raise fail(f"{command}: {_first_line(str(exc))}; {UNCHANGED}") from None
    except Exception as exc:  # noqa: BLE001 - the contract: one line, never a traceback
        raise fail(
            f"{command} failed ({type(exc).__name__}): {_first_line(str(exc))}; {UNCHANGED}"
        ) from None
