"""The shared JSON log format and the log context (request id, job id)."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from typing import Any

import pytest
from counterpromo_core.logging_setup import (
    JsonFormatter,
    configure_logging,
    current_request_id,
    log_context,
)


def _line(record: logging.LogRecord) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(JsonFormatter().format(record))
    return parsed


def _record(**fields: Any) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"name": "counterpromo.test", "levelno": 30, "levelname": "WARNING", "msg": "hi %s"}
        | {"args": ("there",)}
        | fields
    )


def test_a_line_has_the_common_fields_and_the_extras() -> None:
    line = _line(_record(outcome="retry", duration_ms=12))
    assert line["message"] == "hi there"
    assert (line["level"], line["logger"]) == ("warning", "counterpromo.test")
    assert line["time"].endswith("+00:00")
    assert (line["outcome"], line["duration_ms"]) == ("retry", 12)
    assert "request_id" not in line
    assert "traceback" not in line


def test_context_fields_are_on_every_line_until_the_context_ends() -> None:
    with log_context(request_id="req-12345678", job_id=None):
        assert current_request_id() == "req-12345678"
        with log_context(job_id="j-1", type="render_promo"):
            inner = _line(_record())
        outer = _line(_record())
    after = _line(_record())
    assert (inner["request_id"], inner["job_id"], inner["type"]) == (
        "req-12345678",
        "j-1",
        "render_promo",
    )
    assert outer["request_id"] == "req-12345678"
    assert "job_id" not in outer
    assert "request_id" not in after
    assert current_request_id() is None


def test_another_thread_does_not_see_this_context() -> None:
    seen: list[str | None] = []
    with log_context(request_id="req-12345678"):
        thread = threading.Thread(target=lambda: seen.append(current_request_id()))
        thread.start()
        thread.join()
    assert seen == [None]


def _fail() -> None:
    raise KeyError("missing-thing")


def test_a_traceback_is_a_field() -> None:
    try:
        _fail()
    except KeyError:
        record = _record(exc_info=sys.exc_info())
    line = _line(record)
    assert line["exception"] == "KeyError"
    assert "missing-thing" in line["exception_message"]
    assert line["traceback"].startswith("Traceback (most recent call last)")
    assert "\n" in line["traceback"]  # one JSON line, the traceback inside it


def test_configure_logging_writes_json_lines_at_the_level() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("warning", stream=stream)
        logging.getLogger("counterpromo.test").info("not shown")
        with log_context(request_id="req-abcdefgh"):
            logging.getLogger("counterpromo.test").warning("shown", extra={"n": 1})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert [(x["message"], x["request_id"], x["n"]) for x in lines] == [
        ("shown", "req-abcdefgh", 1)
    ]


def test_configure_logging_refuses_an_unknown_level() -> None:
    with pytest.raises(ValueError, match="log level"):
        configure_logging("chatty")
