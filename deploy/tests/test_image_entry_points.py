"""The images' entry points exist and answer: each environment is built the way its
Dockerfile builds it (``uv sync --locked --no-dev --no-editable --package ...``), then
the console scripts the task definitions run are started with ``--help``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# uv caches local wheels until a pyproject.toml changes: rebuild ours from the sources.
WORKSPACE = [
    "counterpromo-core",
    "counterpromo-storage",
    "counterpromo-billing",
    "counterpromo-api",
    "counterpromo-worker",
    "counterpromo-cli",
]


@pytest.mark.parametrize(
    ("packages", "commands"),
    [
        (
            ["counterpromo-api", "counterpromo-cli"],
            [["counterpromo-api", "--help"], ["counterpromo", "db", "upgrade", "--help"]],
        ),
        (["counterpromo-worker"], [["counterpromo-worker", "--help"]]),
    ],
    ids=["api-image", "worker-image"],
)
def test_image_entry_points_answer_help(
    tmp_path: Path, packages: list[str], commands: list[list[str]]
) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv must be on PATH (it builds the images too)"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env |= {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    sync = subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--no-editable", "--quiet"]
        + [f"--package={package}" for package in packages]
        + [f"--reinstall-package={package}" for package in WORKSPACE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    for command in commands:
        result = subprocess.run(
            [str(venv / "bin" / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": str(venv / "bin"), "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "usage" in result.stdout.lower(), result.stdout
