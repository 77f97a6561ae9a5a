"""The ``counterpromo-worker`` console script and its structured logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from counterpromo_worker.runtime.logs import JsonFormatter

SCRIPT = Path(sys.executable).with_name("counterpromo-worker")


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    for option in ("--concurrency", "--grace-seconds", "--liveness-file"):
        assert option in result.stdout


def test_without_configuration_it_exits_2_and_says_what_is_missing(tmp_path: Path) -> None:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COUNTERPROMO", "AWS_", "DATABASE_URL"))
    }
    result = subprocess.run(
        [str(SCRIPT), "--liveness-file", str(tmp_path / "alive")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=environ,
    )
    assert result.returncode == 2
    [line] = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert line["level"] == "error"
    assert "COUNTERPROMO_ENV" in line["message"]


def test_a_bad_option_value_is_refused() -> None:
    result = subprocess.run(
        [str(SCRIPT), "--concurrency", "0"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2
    assert "concurrency" in result.stderr


def test_log_lines_are_json_with_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "counterpromo_worker.jobs",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "job %s",
            "args": ("succeeded",),
            "job_id": "5f0c",
            "outcome": "succeeded",
            "duration_ms": 412,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "job succeeded"
    assert line["level"] == "info"
    assert (line["job_id"], line["outcome"], line["duration_ms"]) == ("5f0c", "succeeded", 412)
    assert line["time"].endswith("+00:00")
