"""``counterpromo dev``: the whole system on this machine, stopped cleanly by Ctrl-C."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from counterpromo_cli.errors import fail
from counterpromo_cli.output import console
from counterpromo_cli.signals import stop_event

if TYPE_CHECKING:
    from counterpromo_cli.localstack.stack import LocalStack


def _say(text: str = "") -> None:
    console.print(text, highlight=False, soft_wrap=True)


def _print_welcome(api_url: str, stack: "LocalStack") -> None:
    assert stack.database is not None  # noqa: S101 - set by start()
    assert stack.aws_env is not None  # noqa: S101
    assert stack.demo is not None  # noqa: S101
    logs = stack.options.data_dir / "logs"
    key = stack.demo.api_key
    _say("[bold green]Counter Promo is running[/bold green]")
    _say(f"  API         {api_url}  (OpenAPI docs: {api_url}/docs)")
    _say(f"  PostgreSQL  {stack.database.url}")
    _say(f"  AWS (moto)  {stack.aws_env.endpoint_url}  (environment {stack.aws_env.env})")
    if stack.stripe_url:
        _say(f"  Stripe      {stack.stripe_url}  (fake: checkout pages pay and send webhooks)")
    else:
        _say("  Stripe      the real API (STRIPE_SECRET_KEY is set; forward webhooks yourself)")
    _say(f"  Logs        {logs / 'api.log'}, {logs / 'worker.log'}")
    state = "created" if stack.demo.created else "reused"
    _say(f"Demo account {stack.demo.account_id} ({state})")
    _say("Owner API key (shown once; every run makes a new one):")
    _say(f"  {key}")
    _say("Try:")
    _say(f"  export CP_KEY={key}")
    _say(f'  curl -H "Authorization: Bearer $CP_KEY" {api_url}/v1/promos')
    _say(f'  curl -X POST -H "Authorization: Bearer $CP_KEY" {api_url}/v1/promos/PROMO_ID/renders')
    _say(f'  curl -H "Authorization: Bearer $CP_KEY" {api_url}/v1/jobs/JOB_ID')
    _say("  counterpromo demo --api-key $CP_KEY")
    _say("Billing: start a checkout, open its url and press Pay; the plan changes:")
    _say(
        f'  curl -X POST -H "Authorization: Bearer $CP_KEY" -H "Content-Type: application/json"'
        f' -d \'{{"plan_code": "pro"}}\' {api_url}/v1/billing/checkout'
    )
    _say(f'  curl -H "Authorization: Bearer $CP_KEY" {api_url}/v1/billing')
    _say("Press Ctrl-C to stop.")
    sys.stdout.flush()


def dev(  # noqa: PLR0917 - typer options
    api_port: Annotated[int, typer.Option(help="Port of the API.")] = 3000,
    postgres_port: Annotated[int, typer.Option(help="Port of the embedded PostgreSQL.")] = 54329,
    aws_port: Annotated[int, typer.Option(help="Port of moto's AWS server.")] = 4566,
    stripe_port: Annotated[
        int, typer.Option(help="Port of the fake Stripe (0: any free port).")
    ] = 0,
    data_dir: Annotated[Path, typer.Option(help="Where data and logs are kept.")] = Path(".local"),
    reset: Annotated[
        bool, typer.Option("--reset", help="Start from an empty embedded database.")
    ] = False,
) -> None:
    """Run the local stack: PostgreSQL, moto (env local), the API, a worker and a demo key.

    PostgreSQL is embedded (data under DATA_DIR/postgres, kept between runs) unless
    DATABASE_URL is set. Billing uses a fake Stripe (checkout pages that pay and send
    signed webhooks to the API) unless STRIPE_SECRET_KEY is set.
    """
    try:
        from counterpromo_cli.localstack.stack import (
            LocalStack,
            PostgresStartError,
            StackError,
            StackOptions,
        )
    except ImportError as exc:
        raise fail(
            f"the local stack needs counterpromo-cli[local] ({exc.name} is missing)"
        ) from None

    stop = stop_event()
    options = StackOptions(
        api_port=api_port,
        postgres_port=postgres_port,
        aws_port=aws_port,
        stripe_port=stripe_port,
        data_dir=data_dir,
        reset=reset,
        database_url=os.environ.get("DATABASE_URL") or None,
    )
    stack = LocalStack(options)
    try:
        stack.check_ports()
    except StackError as exc:
        raise fail(str(exc)) from None
    _say("starting PostgreSQL, moto, the fake Stripe, the API and a worker...")
    try:
        stack.start(stop)
    except (StackError, PostgresStartError, OSError) as exc:
        raise fail(str(exc)) from None
    crashed = None
    try:
        if not stop.is_set():
            _print_welcome(stack.api_url, stack)
            while crashed is None and not stop.wait(1):
                crashed = next((c for c in stack.children if not c.running()), None)
    finally:
        _say("stopping...")
        stack.stop()
        _say("stopped")
        sys.stdout.flush()
    if crashed is not None:
        raise fail(f"the {crashed.name} stopped by itself; its log ends:\n{crashed.log_tail()}")
