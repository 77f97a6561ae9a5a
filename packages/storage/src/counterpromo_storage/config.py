"""Load the process configuration: environment variables, then SSM and Secrets Manager.

Precedence (highest first): environment variables (see ``settings.ENV_VARS``), then the
SSM parameters under ``/counterpromo/{env}/`` and the environment's secrets, then defaults.
Every missing required value is reported in one ``MissingConfiguration`` error.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from botocore.exceptions import ClientError
from pydantic import SecretStr

from counterpromo_storage import naming
from counterpromo_storage.clients import secrets_client, ssm_client
from counterpromo_storage.naming import DEFAULT_REGION, EnvNames
from counterpromo_storage.settings import ENV_VARS, AppConfig, read_overrides, split_secrets

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

# Values a process cannot run without. ``required=`` adds more (e.g. the Stripe keys).
REQUIRED: tuple[str, ...] = (
    "database_url",
    "jobs_queue_url",
    "jobs_dlq_url",
    "uploads_bucket",
    "assets_bucket",
    "exports_bucket",
    "app_url",
)

# What a complete deployed environment also holds (``provision`` writes all of it): the
# Stripe secrets and plan prices the API's billing routes and webhooks need.
DEPLOYED: tuple[str, ...] = (
    "stripe_secret_key",
    "stripe_webhook_secrets",
    "plan_prices",
    "price_map",
)

_PARAMETERS: dict[str, str] = {
    naming.JOBS_QUEUE_URL_PARAM: "jobs_queue_url",
    naming.JOBS_DLQ_URL_PARAM: "jobs_dlq_url",
    naming.UPLOADS_BUCKET_PARAM: "uploads_bucket",
    naming.ASSETS_BUCKET_PARAM: "assets_bucket",
    naming.EXPORTS_BUCKET_PARAM: "exports_bucket",
    naming.APP_URL_PARAM: "app_url",
    naming.API_PUBLIC_URL_PARAM: "api_public_url",
}
_SECRETS: dict[str, str] = {
    "database_url": naming.DATABASE_SECRET,
    "stripe_secret_key": naming.STRIPE_SECRET_KEY_SECRET,
    "stripe_webhook_secrets": naming.STRIPE_WEBHOOK_SECRET_SECRET,
}


@dataclass(frozen=True)
class RequiredName:
    """One SSM parameter or secret that holds (part of) a required configuration field."""

    kind: Literal["parameter", "secret"]
    name: str  # the full name, e.g. /counterpromo/dev/sqs/jobs_queue_url
    field: str  # the AppConfig field it fills


def _required_fields(required: Iterable[str]) -> list[str]:
    fields = list(dict.fromkeys((*REQUIRED, *required)))
    unknown = sorted(set(fields) - set(AppConfig.model_fields))
    if unknown:
        raise ValueError(f"unknown configuration names in required: {', '.join(unknown)}")
    return fields


def required_names(env: str, *, required: Iterable[str] = ()) -> list[RequiredName]:
    """The SSM parameters and secrets of ``env`` that ``load_config(env, required=...)`` needs.

    ``REQUIRED`` plus ``required`` (as for ``load_config``), in that order; ``plan_prices``
    stands for one ``stripe/price_{plan}_monthly`` parameter per plan sold. ``price_map``
    has no fixed names (one ``billing/price_map/{priceId}`` per price), so it adds none.
    Each of them may also be overridden by an environment variable (``settings.ENV_VARS``).
    """
    names = EnvNames(env)
    parameter_of = {field: relative for relative, field in _PARAMETERS.items()}
    out: list[RequiredName] = []
    for field in _required_fields(required):
        if field in parameter_of:
            out.append(RequiredName("parameter", names.path(parameter_of[field]), field))
        elif field in _SECRETS:
            out.append(RequiredName("secret", names.path(_SECRETS[field]), field))
        elif field == "plan_prices":
            out.extend(
                RequiredName("parameter", names.path(naming.plan_price_param(plan)), field)
                for plan in naming.PLANS_WITH_PRICES
            )
    return out


class ConfigurationError(Exception):
    """The configuration cannot be loaded."""


class MissingConfiguration(ConfigurationError):  # noqa: N818 - the contract's name
    """Required values are missing; ``missing`` names every one of them."""

    def __init__(self, env: str | None, missing: list[str], sources: Mapping[str, str]) -> None:
        self.env = env
        self.missing = missing
        where = "; ".join(f"{name} (set {sources[name]})" for name in missing)
        super().__init__(f"missing configuration for environment {env!r}: {where}")


class InvalidConfiguration(ConfigurationError):  # noqa: N818 - pairs with MissingConfiguration
    """A value is present but unusable (the message never contains a secret value)."""


def _sources(names: EnvNames | None) -> dict[str, str]:
    """Where each value may be set, for error messages."""
    ns = names.namespace if names else "/counterpromo/{env}/"
    out = {field: f"env {var}" for field, var in ENV_VARS.items()}
    for relative, field in _PARAMETERS.items():
        out[field] += f" or SSM parameter {ns}{relative}"
    for field, relative in _SECRETS.items():
        out[field] += f" or secret {ns}{relative}"
    out["price_map"] = f"SSM parameters {ns}{naming.PRICE_MAP_PREFIX}{{priceId}}"
    out["plan_prices"] = f"SSM parameters {ns}{naming.plan_price_param('{plan}')}"
    return out


def database_url_from_secret(secret: str, *, secret_id: str) -> str:
    """The SQLAlchemy URL of an RDS-style JSON secret (username, password, host, port, dbname)."""
    try:
        data = json.loads(secret)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvalidConfiguration(f"secret {secret_id} is not a JSON object")
    absent = [key for key in ("username", "password", "host") if not data.get(key)]
    if absent:
        raise InvalidConfiguration(f"secret {secret_id} lacks {', '.join(absent)}")
    try:
        port = int(data.get("port") or 5432)
    except (TypeError, ValueError):
        raise InvalidConfiguration(f"secret {secret_id} has a non-numeric port") from None
    user = quote(str(data["username"]), safe="")
    password = quote(str(data["password"]), safe="")
    dbname = quote(str(data.get("dbname") or "postgres"), safe="")
    return f"postgresql+psycopg://{user}:{password}@{data['host']}:{port}/{dbname}"


def read_parameters(ssm: SSMClient, namespace: str) -> dict[str, str]:
    """Every parameter under ``namespace`` (recursive, decrypted), by name relative to it."""
    found: dict[str, str] = {}
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=namespace.rstrip("/"), Recursive=True, WithDecryption=True
    )
    for page in pages:
        for parameter in page["Parameters"]:
            found[parameter["Name"].removeprefix(namespace)] = parameter["Value"]
    return found


def read_secret(secrets: SecretsManagerClient, secret_id: str) -> str | None:
    """A secret's current string value; None when the secret does not exist."""
    try:
        response = secrets.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    value = response.get("SecretString")
    if value is None:
        raise InvalidConfiguration(f"secret {secret_id} has no string value")
    return value


def _from_parameters(parameters: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for relative, field in _PARAMETERS.items():
        if parameters.get(relative, "").strip():
            values[field] = parameters[relative].strip()
    price_map: dict[str, str] = {}
    plan_prices: dict[str, str] = {}
    for relative, value in parameters.items():
        if relative.startswith(naming.PRICE_MAP_PREFIX):
            price_map[relative.removeprefix(naming.PRICE_MAP_PREFIX)] = value.strip()
        elif match := naming.PLAN_PRICE_PATTERN.match(relative):
            plan_prices[match["plan"]] = value.strip()
    if price_map:
        values["price_map"] = price_map
    if plan_prices:
        values["plan_prices"] = plan_prices
    return values


def _from_secret(field: str, raw: str, secret_id: str) -> Any:
    if field == "database_url":
        return SecretStr(database_url_from_secret(raw, secret_id=secret_id))
    if field == "stripe_webhook_secrets":
        return [SecretStr(part) for part in split_secrets(raw)] or None
    return SecretStr(raw.strip()) if raw.strip() else None


class ConfigLoader:
    """Loads the configuration once and keeps it; ``refresh()`` loads it again.

    Safe to share between threads. ``max_age`` (seconds) makes ``load()`` refresh a
    config older than that, e.g. to pick up a rotated webhook secret.
    """

    def __init__(
        self,
        env: str | None = None,
        *,
        endpoint_url: str | None = None,
        required: Iterable[str] = REQUIRED,
        environ: Mapping[str, str] | None = None,
        ssm: SSMClient | None = None,
        secretsmanager: SecretsManagerClient | None = None,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = env
        self._endpoint_url = endpoint_url
        self._required = _required_fields(required)
        self._environ = environ
        self._ssm = ssm
        self._secrets = secretsmanager
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._config: AppConfig | None = None
        self._loaded_at = 0.0

    def load(self) -> AppConfig:
        with self._lock:
            stale = self._max_age is not None and self._clock() - self._loaded_at > self._max_age
            if self._config is None or stale:
                self._config = self._read()
                self._loaded_at = self._clock()
            return self._config

    def refresh(self) -> AppConfig:
        with self._lock:
            self._config = self._read()
            self._loaded_at = self._clock()
            return self._config

    def _read(self) -> AppConfig:
        environ = os.environ if self._environ is None else self._environ
        overrides = read_overrides(environ).model_dump(exclude_none=True)
        env = self._env or overrides.get("env")
        if not env:
            raise MissingConfiguration(None, ["env"], _sources(None))
        names = EnvNames(env)
        region = overrides.get("region") or DEFAULT_REGION
        endpoint = self._endpoint_url or overrides.get("aws_endpoint_url")

        ssm = self._ssm or ssm_client(region, endpoint)
        values: dict[str, Any] = _from_parameters(read_parameters(ssm, names.namespace))
        needed = [field for field in _SECRETS if field not in overrides]
        if needed:
            secrets = self._secrets or secrets_client(region, endpoint)
            for field in needed:
                secret_id = names.path(_SECRETS[field])
                try:
                    raw = read_secret(secrets, secret_id)
                except ClientError as error:
                    # A secret this process does not require and may not read (the worker's
                    # role has no access to the Stripe secrets) is left unset.
                    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                    if field in self._required or status != HTTPStatus.FORBIDDEN:
                        raise
                    continue
                if raw is not None and (value := _from_secret(field, raw, secret_id)) is not None:
                    values[field] = value

        values.update(overrides)
        values.update(env=env, region=region, aws_endpoint_url=endpoint)
        missing = [field for field in self._required if not values.get(field)]
        if missing:
            raise MissingConfiguration(env, missing, _sources(names))
        return AppConfig.model_validate(values)


def load_config(
    env: str | None = None,
    *,
    endpoint_url: str | None = None,
    required: Iterable[str] = REQUIRED,
    environ: Mapping[str, str] | None = None,
) -> AppConfig:
    """Load the configuration once, without caching (see ``ConfigLoader`` for a cache)."""
    return ConfigLoader(env, endpoint_url=endpoint_url, required=required, environ=environ).load()
