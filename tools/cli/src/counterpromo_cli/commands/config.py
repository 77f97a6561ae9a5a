"""``counterpromo config``: is an environment's configuration complete?"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import typer
from counterpromo_storage import naming
from counterpromo_storage.naming import EnvNames

from counterpromo_cli.apps import command_group
from counterpromo_cli.environment import aws_errors, load, region_and_endpoint, resolve_env
from counterpromo_cli.masking import mask
from counterpromo_cli.options import EnvOption, JsonOption
from counterpromo_cli.output import console, print_json, print_table

app = command_group("SSM parameters and secrets of an environment.")


@dataclass(frozen=True)
class Check:
    kind: str  # "parameter" or "secret"
    name: str
    state: str  # "present", "missing" or "env <VAR>" (overridden by an environment variable)
    value: str | None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "state": self.state, "value": self.value}


def _override(field: str) -> str | None:
    """The environment variable that overrides ``field`` in this process, if it is set."""
    from counterpromo_storage.settings import ENV_VARS, read_overrides

    overrides = read_overrides(os.environ)
    var = ENV_VARS.get(field)
    return var if var and getattr(overrides, field, None) else None


def _checks(names: EnvNames) -> list[Check]:
    from counterpromo_storage.clients import secrets_client, ssm_client
    from counterpromo_storage.config import DEPLOYED, read_parameters, read_secret, required_names

    region, endpoint = region_and_endpoint()
    parameters = read_parameters(ssm_client(region, endpoint), names.namespace)
    secrets = secrets_client(region, endpoint)
    checks: list[Check] = []
    for required in required_names(names.env, required=DEPLOYED):
        if required.kind == "parameter":
            value = parameters.get(required.name.removeprefix(names.namespace), "").strip()
            shown = value or None
        else:
            raw = read_secret(secrets, required.name)
            value = raw.strip() if raw else ""
            shown = mask(raw) if raw else None
        state = "present" if value else (_env_state(required.field) or "missing")
        checks.append(Check(required.kind, required.name, state, shown))
    # Every price a plan is sold at must map back to that plan.
    for relative, price in parameters.items():
        if match := naming.PLAN_PRICE_PATTERN.match(relative):
            mapped = naming.PRICE_MAP_PREFIX + price.strip()
            plan = parameters.get(mapped, "").strip()
            state = "present" if plan == match["plan"] else "missing"
            checks.append(Check("parameter", names.path(mapped), state, plan or None))
    return checks


def _env_state(field: str) -> str | None:
    var = _override(field)
    return f"env {var}" if var else None


@app.command()
def check(env: EnvOption = None, json_output: JsonOption = False) -> None:
    """Check every SSM parameter and secret the services need; exit 1 if any is missing."""
    names = resolve_env(env)
    with aws_errors():
        checks = _checks(names)
    missing = [c for c in checks if c.state == "missing"]
    if json_output:
        print_json({"env": names.env, "ok": not missing, "checks": [c.as_json() for c in checks]})
    else:
        print_table(
            f"Configuration of {names.env}",
            ["kind", "name", "state", "value"],
            ((c.kind, c.name, c.state, c.value) for c in checks),
        )
        console.print(
            f"{len(missing)} missing" if missing else f"all {len(checks)} settings present"
        )
    if missing:
        raise typer.Exit(code=1)


def _shown(field: str, value: Any) -> Any:
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    if field == "database_url" and isinstance(value, SecretStr):
        return make_url(value.get_secret_value()).render_as_string(hide_password=True)
    if isinstance(value, SecretStr):
        return mask(value.get_secret_value())
    if isinstance(value, list):
        return [_shown(field, v) for v in value]
    return value


@app.command()
def show(env: EnvOption = None, json_output: JsonOption = False) -> None:
    """Show the configuration a service would load for ENV (secrets masked)."""
    config = load(env)
    values = {field: _shown(field, value) for field, value in config}
    if json_output:
        print_json(values)
        return
    print_table(
        f"Configuration of {config.env}",
        ["setting", "value", "from env var"],
        ((field, value, _override(field) or "") for field, value in values.items()),
    )
