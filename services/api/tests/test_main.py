"""The ``counterpromo-api`` command and ``create_app()`` reading its configuration itself."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from counterpromo_api.app import create_app
from counterpromo_api.main import parse_args
from counterpromo_api.testing import ServerThread
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_storage.provision import ProvisionedEnv


def test_defaults_serve_on_port_3000_on_all_interfaces() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 3000, 1)  # noqa: S104 - in a container
    assert parse_args(["--port", "8080", "--workers", "2"]).port == 8080


def test_help_describes_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "counterpromo_api.main", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--port" in result.stdout
    assert "FORWARDED_ALLOW_IPS" in result.stdout


def test_create_app_loads_config_from_environment_and_ssm(
    aws_env: ProvisionedEnv,
    database_url: str,
    fake_stripe: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in aws_env.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake_stripe.secret_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake_stripe.webhook_secret)
    with ServerThread(create_app()) as server:
        response = httpx.get(f"{server.url}/ready", timeout=30)
        plans = httpx.get(f"{server.url}/v1/plans", timeout=30)
    assert response.status_code == 200
    assert [p["code"] for p in plans.json()] == ["free", "starter", "pro", "dealer"]
    assert plans.json()[1]["price_monthly"] == "29.00"


FROZEN_PROBE = """
import gc
from counterpromo_api.main import app_factory
app = app_factory()
print(gc.get_freeze_count(), any(o is app.router for o in gc.get_objects()))
"""


def test_the_app_factory_freezes_what_start_up_made(
    aws_env: ProvisionedEnv, database_url: str, fake_stripe: FakeStripe
) -> None:
    # In a process of its own: freezing is for the whole process, as in a deployed task.
    environ = {
        **os.environ,
        **aws_env.environ(),
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": fake_stripe.secret_key,
        "STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
    }
    result = subprocess.run(
        [sys.executable, "-c", FROZEN_PROBE],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=environ,
    )
    assert result.returncode == 0, result.stderr
    frozen, router_tracked = result.stdout.split()
    # Every module, route and model of the app: tens of thousands of objects.
    assert int(frozen) > 50_000
    assert router_tracked == "False"
