"""``counterpromo stripe``: the price map in SSM and stored webhook events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from counterpromo_storage import naming

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import session_maker, transaction
from counterpromo_cli.environment import aws_errors, load, region_and_endpoint, resolve_env
from counterpromo_cli.errors import fail
from counterpromo_cli.options import EnvOption, JsonOption
from counterpromo_cli.output import console, print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.db.models import StripeEvent
    from mypy_boto3_ssm import SSMClient

app = command_group("Stripe: price map and webhook events.")
price_map_app = command_group("Stripe price id -> plan code (SSM).")
events_app = command_group("Stored Stripe webhook events.")
app.add_typer(price_map_app, name="price-map")
app.add_typer(events_app, name="events")


def _ssm(env: str | None) -> tuple[SSMClient, naming.EnvNames]:
    from counterpromo_storage.clients import ssm_client

    names = resolve_env(env)
    return ssm_client(*region_and_endpoint()), names


@price_map_app.command("list")
def price_map_list(env: EnvOption = None, json_output: JsonOption = False) -> None:
    """List which plan each Stripe price id buys."""
    from counterpromo_storage.config import read_parameters

    ssm, names = _ssm(env)
    with aws_errors():
        parameters = read_parameters(ssm, names.namespace)
    mapping = {
        relative.removeprefix(naming.PRICE_MAP_PREFIX): plan
        for relative, plan in sorted(parameters.items())
        if relative.startswith(naming.PRICE_MAP_PREFIX)
    }
    if json_output:
        print_json(mapping)
        return
    print_table(f"Price map of {names.env}", ["price", "plan"], mapping.items())


@price_map_app.command("set")
def price_map_set(
    price: Annotated[str, typer.Argument(help="Stripe price id, e.g. price_1Sv...")],
    plan: Annotated[str, typer.Argument(help="Plan code it buys, e.g. starter.")],
    env: EnvOption = None,
) -> None:
    """Map a Stripe price id to a plan (the plan must exist in the database)."""
    from counterpromo_core.db.models import BillingPlan

    if not price.startswith("price_") or "/" in price:
        raise fail(f"{price!r} is not a Stripe price id (price_...)")
    ssm, names = _ssm(env)
    with transaction(names.env) as session:
        if session.get(BillingPlan, plan) is None:
            raise fail(f"no plan {plan!r} in the database (see: counterpromo plans list)")
    with aws_errors():
        ssm.put_parameter(
            Name=names.path(naming.PRICE_MAP_PREFIX + price),
            Value=plan,
            Type="String",
            Overwrite=True,
        )
    console.print(f"{names.env}: price {price} -> plan {plan}")


def event_json(event: StripeEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "created": event.created,
        "received_at": event.received_at,
        "processed_at": event.processed_at,
        "attempts": event.attempts,
        "account_id": str(event.account_id) if event.account_id else None,
        "error": event.error,
    }


@events_app.command("list")
def events_list(
    unprocessed: Annotated[
        bool, typer.Option("--unprocessed", help="Only events not processed yet.")
    ] = False,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """List stored webhook events, newest first (or unprocessed ones, oldest first)."""
    from counterpromo_billing import webhooks

    with transaction(env) as session:
        if unprocessed:
            events = webhooks.failed_events(session, limit=limit)
        else:
            events = webhooks.recent_events(session, limit=limit)
    if json_output:
        print_json([event_json(e) for e in events])
        return
    print_table(
        "Stripe events",
        ["id", "type", "received", "processed", "attempts", "error"],
        (
            (
                e.id,
                e.type,
                f"{e.received_at:%Y-%m-%d %H:%M:%S}",
                e.processed_at,
                e.attempts,
                e.error,
            )
            for e in events
        ),
    )


@events_app.command("replay")
def events_replay(
    event_id: Annotated[str, typer.Argument(help="Stripe event id (evt_...).")],
    env: EnvOption = None,
) -> None:
    """Process a stored event again (e.g. after fixing the price map)."""
    from counterpromo_billing import webhooks
    from counterpromo_billing.clients import stripe_client

    config = load(env, required=("stripe_secret_key",))
    with aws_errors():
        client = stripe_client(config)
    with session_maker(config.env) as sessions:
        outcome = webhooks.process_stored_event(sessions, event_id, stripe=client, price_map=config)
    if outcome.status == "failed":
        raise fail(f"event {event_id} ({outcome.event_type}) failed again: {outcome.error}")
    console.print(f"event {event_id} ({outcome.event_type}): {outcome.status}")
