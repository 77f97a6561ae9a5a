"""``counterpromo demo``: a sample CSV to a print-ready PDF and PNG, end to end."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from counterpromo_cli.errors import fail
from counterpromo_cli.output import console, err_console, progress_console

if TYPE_CHECKING:
    from counterpromo_cli.demo_client import DemoClient, DemoResult

SAMPLE_NAME = "sample-products.csv"


def run_demo(client: DemoClient, folder: Path, sample: bytes) -> DemoResult:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from counterpromo_cli.demo_client import DemoResult

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=progress_console(),
        transient=True,
    ) as progress:
        step = progress.add_task("creating a promo")
        promo_id = client.create_promo("Counter Promo demo: spring trade deals")
        progress.update(step, description="uploading the sample CSV")
        parse_job = client.upload_csv(promo_id, SAMPLE_NAME, sample)
        client.wait_for_job(
            parse_job, lambda s: progress.update(step, description=f"parsing the CSV ({s})")
        )
        items = client.item_count(promo_id)
        progress.update(step, description="rendering")
        render_job = client.request_render(promo_id)
        client.wait_for_job(
            render_job, lambda s: progress.update(step, description=f"rendering ({s})")
        )
        progress.update(step, description="downloading the PDF and PNG")
        files = client.download_outputs(promo_id, folder)
    return DemoResult(promo_id=promo_id, items=items, files=files)


@contextlib.contextmanager
def _own_stack(data_dir: Path) -> Iterator[tuple[str, str]]:
    """A local stack of this process on free ports; yields (API URL, API key)."""
    from counterpromo_cli.localstack.stack import LocalStack, StackOptions

    stack = LocalStack(StackOptions.on_free_ports(data_dir, os.environ.get("DATABASE_URL") or None))
    with err_console.status("starting a local stack (PostgreSQL, moto, API, worker)..."):
        # Ctrl-C stays a KeyboardInterrupt here: start() and the finally below clean up.
        stack.start(threading.Event())
    try:
        assert stack.demo is not None  # noqa: S101 - set by start()
        yield stack.api_url, stack.demo.api_key
    finally:
        with err_console.status("stopping the local stack..."):
            stack.stop()


def demo(
    api_url: Annotated[
        str, typer.Option(help="A running API (see `counterpromo dev`).")
    ] = "http://127.0.0.1:3000",
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="COUNTERPROMO_API_KEY",
            help="Key for --api-url; without one, a local stack is started just for the demo.",
        ),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Data folder of the stack started without --api-key.")
    ] = Path(".local/demo"),
    output_dir: Annotated[Path, typer.Option(help="Where the PDF and PNG are written.")] = Path(),
    billing: Annotated[
        str | None,
        typer.Option(
            help="Then subscribe to this plan (e.g. pro): checkout, Pay on the local stack's "
            "fake Stripe, show GET /v1/billing."
        ),
    ] = None,
) -> None:
    """Upload the shipped sample CSV, render it and download the PDF and PNG."""
    from counterpromo_cli.demo_client import DemoClient, DemoError
    from counterpromo_cli.localstack.sample import sample_csv_bytes

    sample = sample_csv_bytes()
    output_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if api_key is None:
            try:
                api_url, api_key = stack.enter_context(_own_stack(data_dir))
            except Exception as exc:  # noqa: BLE001 - any start failure is one line
                raise fail(f"cannot start a local stack: {exc}") from None
        client = DemoClient(api_url, api_key)
        stack.callback(client.close)
        try:
            result = run_demo(client, output_dir, sample)
            subscribed = client.subscribe(billing) if billing else None
        except DemoError as exc:
            raise fail(str(exc)) from None
    console.print(f"promo {result.promo_id}: {result.items} items from {SAMPLE_NAME}")
    for path in result.files:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if subscribed is not None:
        console.print(
            f"billing: plan {subscribed['plan_code']} ({subscribed['subscription_status']}), "
            f"period ends {subscribed['current_period_end']}",
            highlight=False,
            soft_wrap=True,
        )
