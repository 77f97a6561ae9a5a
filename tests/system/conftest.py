"""Fixtures of the system tests: one whole system (session-scoped) shared by every test.

Each test starts from a whole system (anything a failed test left stopped is started
again) and, when it fails, gets the tail of every service's log in its report.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.orm import Session, sessionmaker

from harness.stack import StackOptions, SystemStack
from harness.tenants import Tenant, create_tenant

_STACK: SystemStack | None = None


@pytest.fixture(scope="session")
def stack() -> Iterator[SystemStack]:
    global _STACK  # noqa: PLW0603 - the report hook below reads the logs
    # Not pytest's tmp_path: PostgreSQL runs as another user and needs to traverse the path,
    # and other pytest runs reset /tmp/pytest-of-<user> to mode 0700 at any moment.
    workdir = Path(tempfile.mkdtemp(prefix="counterpromo-system-"))
    system = SystemStack(workdir, StackOptions())
    _STACK = system
    try:
        system.start()
        yield system
    finally:
        try:
            system.stop()
        finally:
            _STACK = None
            _assert_no_children_left()
            shutil.rmtree(workdir, ignore_errors=True)


def _assert_no_children_left() -> None:
    left = [p for p in psutil.Process().children(recursive=True) if p.is_running()]
    for process in left:
        process.kill()
    assert not left, f"processes outlived the stack: {[p.cmdline() for p in left]}"


@pytest.fixture(autouse=True)
def _whole_system(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames:
        stack: SystemStack = request.getfixturevalue("stack")
        stack.ensure_running()


@pytest.fixture
def sessions(stack: SystemStack) -> sessionmaker[Session]:
    return stack.sessions


@pytest.fixture
def apis(stack: SystemStack) -> Iterator[list[httpx.Client]]:
    """One HTTP client per API process."""
    clients = [httpx.Client(base_url=api.url, timeout=30) for api in stack.apis]
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def tenant(stack: SystemStack) -> Tenant:
    return create_tenant(stack.sessions, plan="dealer")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and _STACK is not None:
        logs: Path = _STACK.logs
        for path in sorted(logs.glob("*.log")):
            tail = path.read_bytes()[-6000:].decode(errors="replace")
            report.sections.append((f"log {path.name}", tail))
    return report
