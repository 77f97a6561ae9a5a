"""``counterpromo db`` against a real PostgreSQL, and against none."""

import pytest
from counterpromo_cli import __version__
from counterpromo_cli.main import app
from counterpromo_core.db import head_revision
from counterpromo_testing import free_port
from counterpromo_testing.databases import DatabaseServer
from typer.testing import CliRunner

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_upgrade_then_current(
    postgres_server: DatabaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.create_database(migrated=False)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        before = runner.invoke(app, ["db", "current", "--json"])
        assert before.exit_code == 0, before.output
        assert '"current": null' in before.output

        upgraded = runner.invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output

        after = runner.invoke(app, ["db", "current", "--json"])
        assert f'"current": "{head_revision()}"' in after.output
        assert '"up_to_date": true' in after.output
    finally:
        postgres_server.drop_database(url)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"]])
def test_unreachable_database_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody:secret@127.0.0.1:{free_port()}/x")
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "cannot reach the database" in lines[0]
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_history_lists_shipped_migrations() -> None:
    result = runner.invoke(app, ["db", "history", "--json"])
    assert result.exit_code == 0
    assert '"revision": "0001"' in result.output
