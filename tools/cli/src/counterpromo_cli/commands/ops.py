"""``counterpromo ops``: operations as code (CloudWatch alarms)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from counterpromo_storage.naming import DEFAULT_REGION

from counterpromo_cli.apps import command_group
from counterpromo_cli.environment import aws_errors, resolve_env
from counterpromo_cli.errors import fail
from counterpromo_cli.ops.alarms import (
    OpsError,
    alarms_for,
    alerts_topic,
    apply_alarms,
    list_alarms,
    load_balancer_dimension,
)
from counterpromo_cli.output import console, print_json

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

app = command_group("Operations as code.")
alarms_app = command_group("The environment's CloudWatch alarms.")
app.add_typer(alarms_app, name="alarms")

EnvOption = Annotated[
    str | None, typer.Option("--env", envvar="COUNTERPROMO_ENV", help="Environment (dev, prod).")
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="A local AWS (moto), for tests."
    ),
]
RegionOption = Annotated[str, typer.Option("--region", envvar="AWS_REGION")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _cloudwatch(region: str, endpoint_url: str | None) -> CloudWatchClient:
    import boto3

    return boto3.client("cloudwatch", region_name=region, endpoint_url=endpoint_url)


def _elbv2(region: str, endpoint_url: str | None) -> Any:
    # Any: the project installs no elbv2 stubs for one describe call.
    import boto3

    return boto3.client("elbv2", region_name=region, endpoint_url=endpoint_url)


@alarms_app.command()
def apply(
    env: EnvOption = None,
    endpoint_url: EndpointOption = None,
    region: RegionOption = DEFAULT_REGION,
    json_output: JsonOption = False,
) -> None:
    """Create or update every alarm of ENV (idempotent), all notifying the alerts topic."""
    from counterpromo_storage.clients import ssm_client

    names = resolve_env(env)
    try:
        with aws_errors():
            topic = alerts_topic(ssm_client(region, endpoint_url), names.env)
            load_balancer = load_balancer_dimension(_elbv2(region, endpoint_url), names.env)
            alarms = alarms_for(names.env, load_balancer=load_balancer)
            apply_alarms(_cloudwatch(region, endpoint_url), alarms, topic, names.env)
    except OpsError as exc:
        raise fail(str(exc)) from None
    if json_output:
        print_json({"topic": topic, "alarms": [a.name for a in alarms]})
        return
    for alarm in alarms:
        console.print(f"applied {alarm.name}: {alarm.description}", highlight=False)
    console.print(f"{len(alarms)} alarms notify {topic}", highlight=False)


@alarms_app.command("list")
def list_(
    env: EnvOption = None,
    endpoint_url: EndpointOption = None,
    region: RegionOption = DEFAULT_REGION,
    json_output: JsonOption = False,
) -> None:
    """The alarms of ENV and their state."""
    names = resolve_env(env)
    with aws_errors():
        states = list_alarms(_cloudwatch(region, endpoint_url), names.env)
    if json_output:
        print_json([asdict(state) for state in states])
        return
    if not states:
        console.print(
            f"no alarms for {names.env}: run `counterpromo ops alarms apply --env {names.env}`"
        )
    for state in states:
        console.print(f"{state.state:<17} {state.name}", highlight=False)
