"""``counterpromo stripe``: the price map in SSM, stored webhook events, billing audit.

Imports of the database, AWS and Stripe libraries happen inside the commands, so
``counterpromo --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.errors import fail
from counterpromo_cli.options import EnvOption, JsonOption
from counterpromo_cli.output import console, print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.db.models import AuditEvent, StripeEvent
    from counterpromo_storage import naming
    from mypy_boto3_ssm import SSMClient

app = command_group("Stripe: price map, webhook events, billing audit.")
price_map_app = command_group("Stripe price id (or legacy plan id) -> plan code (SSM).")
events_app = command_group("Stored Stripe webhook events.")
app.add_typer(price_map_app, name="price-map")
app.add_typer(events_app, name="events")


def _ssm(env: str | None) -> tuple[SSMClient, naming.EnvNames]:
    from counterpromo_storage.clients import ssm_client

    from counterpromo_cli.environment import region_and_endpoint, resolve_env

    names = resolve_env(env)
    return ssm_client(*region_and_endpoint()), names


@price_map_app.command("list")
def price_map_list(env: EnvOption = None, json_output: JsonOption = False) -> None:
    """List which plan each Stripe price id buys."""
    from counterpromo_storage import naming
    from counterpromo_storage.config import read_parameters

    from counterpromo_cli.environment import aws_errors

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


def _valid_price_id(price: str) -> bool:
    """A Stripe price id (``price_...``) or a legacy plan id: a non-empty name SSM can hold.

    Object ids of other kinds (``prod_``, ``sub_``, ``cus_``...) are refused: a common slip.
    """
    if not price or len(price) > 200 or "/" in price or any(c.isspace() for c in price):
        return False
    return not price.startswith(("prod_", "sub_", "cus_", "cs_", "in_", "si_"))


@price_map_app.command("set")
def price_map_set(
    price: Annotated[
        str, typer.Argument(help="Stripe price id (price_1Sv...) or legacy plan id (gold-monthly).")
    ],
    plan: Annotated[str, typer.Argument(help="Plan code it buys, e.g. starter.")],
    env: EnvOption = None,
) -> None:
    """Map a Stripe price id to a plan (the plan must exist). APIs use it within a minute."""
    from counterpromo_core.db.models import BillingPlan
    from counterpromo_storage import naming

    from counterpromo_cli.database import transaction
    from counterpromo_cli.environment import aws_errors

    if not _valid_price_id(price):
        raise fail(f"{price!r} is not a Stripe price id (price_...) or a legacy plan id")
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
        "ignored_reason": event.ignored_reason,
    }


@events_app.command("list")
def events_list(
    unprocessed: Annotated[
        bool, typer.Option("--unprocessed", help="Only events not processed yet.")
    ] = False,
    unattributed: Annotated[
        bool,
        typer.Option(
            "--unattributed",
            help="Only events for no account of ours (unknown customer or price), with why.",
        ),
    ] = False,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """List stored webhook events, newest first (or unprocessed ones, oldest first)."""
    from counterpromo_billing import webhooks

    from counterpromo_cli.database import transaction

    if unprocessed and unattributed:
        raise fail("--unprocessed and --unattributed do not go together")
    with transaction(env) as session:
        if unprocessed:
            events = webhooks.failed_events(session, limit=limit)
        elif unattributed:
            events = webhooks.unattributed_events(session, limit=limit)
        else:
            events = webhooks.recent_events(session, limit=limit)
    if json_output:
        print_json([event_json(e) for e in events])
        return
    print_table(
        "Stripe events",
        ["id", "type", "received", "processed", "attempts", "error / reason"],
        (
            (
                e.id,
                e.type,
                f"{e.received_at:%Y-%m-%d %H:%M:%S}",
                e.processed_at,
                e.attempts,
                e.error or e.ignored_reason,
            )
            for e in events
        ),
    )


@events_app.command("replay")
def events_replay(
    event_id: Annotated[str, typer.Argument(help="Stripe event id (evt_...).")],
    env: EnvOption = None,
) -> None:
    """Process a stored event again (e.g. after mapping its price or linking its customer)."""
    from counterpromo_billing import webhooks
    from counterpromo_billing.clients import stripe_client
    from counterpromo_billing.live_prices import LivePrices
    from counterpromo_storage.clients import ssm_client

    from counterpromo_cli.database import session_maker
    from counterpromo_cli.environment import aws_errors, load

    config = load(env, required=("stripe_secret_key",))
    with aws_errors():
        client = stripe_client(config)
    prices = LivePrices.from_ssm(ssm_client(config.region, config.aws_endpoint_url), config.env)
    with session_maker(config.env) as sessions, aws_errors():
        outcome = webhooks.process_stored_event(sessions, event_id, stripe=client, price_map=prices)
    if outcome.status == "failed":
        raise fail(f"event {event_id} ({outcome.event_type}) failed again: {outcome.error}")
    if outcome.status == "unattributed":
        raise fail(
            f"event {event_id} ({outcome.event_type}) is still unattributed: {outcome.error}"
        )
    console.print(f"event {event_id} ({outcome.event_type}): {outcome.status}")


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at,
        "account_id": str(event.account_id) if event.account_id else None,
        "action": event.action,
        "detail": event.detail,
    }


@app.command("audit")
def audit(
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    env: EnvOption = None,
    json_output: JsonOption = False,
) -> None:
    """What billing did on its own: duplicate subscriptions cancelled, customers deleted."""
    from counterpromo_billing.single_subscription import billing_audit

    from counterpromo_cli.database import transaction

    with transaction(env) as session:
        events = billing_audit(session, limit=limit)
    if json_output:
        print_json([audit_json(e) for e in events])
        return
    print_table(
        "Billing audit",
        ["when", "account", "action", "detail"],
        (
            (f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.account_id, e.action, _detail(e.detail))
            for e in events
        ),
    )


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items() if k != "rule")
