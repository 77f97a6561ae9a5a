"""Run the ``counterpromo`` app in-process, for tests (ours and other teams')."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from counterpromo_cli.main import app


class Cli:
    """``Cli().run("accounts", "list")``; the environment is the caller's."""

    def __init__(self) -> None:
        # Wide enough that tables never wrap what a test looks for.
        self._runner = CliRunner(env={"COLUMNS": "250"})

    def run(self, *args: str, input: str | None = None) -> Result:
        return self._runner.invoke(app, list(args), input=input)

    def json(self, *args: str) -> Any:
        """The parsed stdout of a command that must succeed (pass ``--json`` yourself)."""
        result = self.run(*args)
        if result.exit_code != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.exit_code}: {result.output}")
        return json.loads(result.stdout)

    def error_line(self, *args: str, input: str | None = None) -> str:
        """The one line a failing command prints; it must exit 1 without a traceback."""
        result = self.run(*args, input=input)
        lines = [line for line in result.output.splitlines() if line.strip()]
        if result.exit_code != 1 or len(lines) != 1 or "Traceback" in result.output:
            raise AssertionError(
                f"{' '.join(args)}: expected one error line and exit 1, "
                f"got exit {result.exit_code}: {result.output}"
            )
        return lines[0]
