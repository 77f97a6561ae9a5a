"""The Stripe event applier runs in a child process of the API, and never outlives it."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from counterpromo_api.app import create_app
from counterpromo_api.applier_process import ApplierProcess
from counterpromo_api.services import Services
from counterpromo_api.settings import ApiSettings
from counterpromo_api.testing import ServerThread, Tenant, make_tenant
from counterpromo_billing.event_applier import EventApplier
from counterpromo_core.db.models import Account, StripeEvent
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker

PaidCheckout = Callable[[httpx.Client, Tenant], tuple[bytes, dict[str, str]]]


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (exited all the same)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def _wait(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_events_are_applied_by_a_child_process_that_stops_with_the_api(
    api_config: AppConfig, paid_checkout: PaidCheckout, sessions: sessionmaker[Session]
) -> None:
    app = create_app(api_config, settings=ApiSettings(webhook_applier_concurrency=2))
    services: Services = app.state.services
    assert isinstance(services.applier, ApplierProcess)
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        pid = services.applier.pid
        assert pid is not None
        assert pid != os.getpid()
        assert services.applier.is_alive()

        tenant = make_tenant(sessions, plan="free")
        payload, headers = paid_checkout(http, tenant)
        delivered = http.post("/webhooks/stripe", content=payload, headers=headers)
        assert delivered.status_code == 200, delivered.text
        event_id = delivered.json()["event_id"]

        def applied() -> bool:
            with sessions() as session:
                return session.get_one(StripeEvent, event_id).processed_at is not None

        _wait(applied, "the child process applied the event")
        with sessions() as session:
            assert session.get_one(Account, tenant.account_id).plan_code == "starter"

        os.kill(pid, signal.SIGKILL)  # died unasked: another takes its place
        _wait(lambda: services.applier.pid != pid, "a new applier process started")
        replacement = services.applier.pid
        assert replacement is not None
        assert services.applier.is_alive()
    _wait(lambda: _gone(replacement), "the applier process stopped with the API", timeout=20)


def test_the_thread_applier_is_still_available(api_config: AppConfig) -> None:
    settings = ApiSettings(webhook_applier_process=False)
    services = Services.build(api_config, settings, clock=None)
    try:
        assert isinstance(services.applier, EventApplier)
    finally:
        services.close()


# A parent that builds the applier process, prints its pid, then waits to be killed.
_PARENT = """
import pickle, sys, time
from counterpromo_api.applier_process import ApplierProcess
applier = ApplierProcess(pickle.load(sys.stdin.buffer), lanes=1, log_level="WARNING").start()
print(applier.pid, flush=True)
time.sleep(600)
"""


def test_the_applier_process_exits_when_its_parent_is_killed(api_config: AppConfig) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert parent.stdin is not None
    assert parent.stdout is not None
    parent.stdin.write(pickle.dumps(api_config))
    parent.stdin.close()
    child = int(parent.stdout.readline())
    try:
        assert not _gone(child)
        parent.kill()  # SIGKILL: no lifespan, no stop(); the child must notice by itself
        parent.wait(timeout=10)
        _wait(lambda: _gone(child), "the orphaned applier process exited", timeout=20)
    finally:
        parent.kill()
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
