"""``counterpromo dev``: the whole system on this machine."""

import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from counterpromo_core.db import migrate

from counterpromo_cli.output import console

LOCAL_DIR = Path(".local")


def dev(
    reset: Annotated[bool, typer.Option("--reset", help="Start from an empty database.")] = False,
) -> None:
    """Run the local stack: PostgreSQL (embedded unless DATABASE_URL is set), migrated."""
    from counterpromo_testing.postgres import EmbeddedPostgres  # noqa: PLC0415

    embedded: EmbeddedPostgres | None = None
    database_url = os.environ.get("DATABASE_URL")
    if database_url is None:
        data_dir = (LOCAL_DIR / "postgres").resolve()
        if reset and data_dir.exists():
            import shutil  # noqa: PLC0415

            shutil.rmtree(data_dir)
        embedded = EmbeddedPostgres(data_dir, port=54329).start()
        embedded.psql("SELECT 1")
        if "counterpromo" not in embedded.psql("SELECT datname FROM pg_database").split():
            embedded.create_database("counterpromo")
        database_url = embedded.url("counterpromo")
    try:
        migrate.upgrade(database_url)
        console.print(f"PostgreSQL: {database_url} (migrated to {migrate.head_revision()})")
        console.print("Press Ctrl-C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        if embedded is not None:
            embedded.stop()
        console.print("stopped")
