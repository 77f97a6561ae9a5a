"""Start-up stays light: ``--help`` at every level imports none of the heavy libraries.

Each ``--help`` runs in a fresh interpreter (``sys.modules`` is per process), which then
reports the modules it imported. Figures (seconds, ratio to ``import typer, rich``) are in
``tools/cli/bench/startup_bench.py`` (``nox -s bench``), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from counterpromo_cli.commands import jobs as jobs_command
from counterpromo_cli.main import app
from counterpromo_core.db.models import JOB_STATUSES
from typer.core import TyperGroup as Group

# Top-level packages that `--help` must not import (nor any submodule of them).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "boto3",
    "botocore",
    "stripe",
    "httpx",
    "requests",
    "pydantic",
    "PIL",
    "babel",
    "typst",
    "pypdfium2",
    "counterpromo_core",
    "counterpromo_billing",
    "counterpromo_testing",
    "counterpromo_api",
    "counterpromo_worker",
    "rich.console",
    "rich.markdown",
    "importlib.metadata",
)

# The root callback sets up logging for every command: core's logging setup is standard
# library only, and core's package imports nothing (its __version__ is read when asked).
LIGHT = {"counterpromo_core", "counterpromo_core.logging_setup"}

_PROBE = """
import json, sys
sys.argv = ["counterpromo", *json.loads(sys.argv[1])]
from counterpromo_cli.main import app
try:
    app()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _command_paths() -> list[tuple[str, ...]]:
    """Every group and command of the CLI, as argv prefixes ("" is the top level)."""
    paths: list[tuple[str, ...]] = [()]

    def walk(group: Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            paths.append((*prefix, name))
            if isinstance(command, Group):
                walk(command, (*prefix, name))

    root = typer.main.get_command(app)
    assert isinstance(root, Group)
    walk(root, ())
    return paths


PATHS = _command_paths()


def _imported_by_help(path: tuple[str, ...]) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([*path, "--help"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stderr.rsplit("\nMODULES ", 1)[1])
    assert report["code"] == 0, done.stderr
    return done.stdout, report["modules"]


def test_the_walk_finds_every_command() -> None:
    # A guard for the walk itself: groups, nested groups and their commands are all there.
    assert ("db", "upgrade") in PATHS
    assert ("stripe", "events", "replay") in PATHS
    assert ("ops", "alarms", "apply") in PATHS
    assert ("dev",) in PATHS
    assert len(PATHS) > 35


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "counterpromo")
def test_help_imports_no_heavy_module(path: tuple[str, ...]) -> None:
    output, modules = _imported_by_help(path)
    assert "Usage: counterpromo" in output
    heavy = sorted(
        m for m in set(modules) - LIGHT for h in HEAVY if m == h or m.startswith(f"{h}.")
    )
    assert heavy == [], f"`counterpromo {' '.join(path)} --help` imported {heavy[:10]}"


def test_the_job_statuses_in_help_are_cores() -> None:
    assert jobs_command.JOB_STATUSES == JOB_STATUSES
