"""An environment's settings, read the way the services read them.

``load_config`` (storage) takes environment variables first, then SSM and
Secrets Manager under ``/counterpromo/{env}/``. AWS and configuration failures
become one clear line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from counterpromo_storage.naming import DEFAULT_REGION, EnvNames

from counterpromo_cli.errors import fail

if TYPE_CHECKING:
    from counterpromo_storage.settings import AppConfig


def resolve_env(env: str | None) -> EnvNames:
    """The names of ``--env`` (or ``COUNTERPROMO_ENV``); one line if it is absent or malformed."""
    if not env:
        raise fail("name the environment: --env ENV or COUNTERPROMO_ENV (e.g. local, dev)")
    try:
        return EnvNames(env)
    except ValueError as exc:
        raise fail(str(exc)) from None


def endpoint_label() -> str:
    from counterpromo_storage.settings import read_overrides

    return read_overrides(os.environ).aws_endpoint_url or "AWS"


def region_and_endpoint() -> tuple[str, str | None]:
    """The region and endpoint the services would use (``AWS_REGION``, ``AWS_ENDPOINT_URL``)."""
    from counterpromo_storage.settings import read_overrides

    overrides = read_overrides(os.environ)
    return overrides.region or DEFAULT_REGION, overrides.aws_endpoint_url


@contextmanager
def aws_errors() -> Iterator[None]:
    """boto3 and configuration failures as one line (never a secret value)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )
    from counterpromo_storage.config import ConfigurationError

    try:
        yield
    except EndpointConnectionError as exc:
        raise fail(
            f"cannot reach AWS at {exc.kwargs.get('endpoint_url', endpoint_label())}"
        ) from None
    except NoCredentialsError:
        raise fail("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        raise fail(f"AWS refused {exc.operation_name}: {code}: {message}") from None
    except BotoCoreError as exc:
        raise fail(f"AWS error: {exc}") from None
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


def load(env: str | None, *, required: Iterable[str] | None = None) -> AppConfig:
    """The configuration of ``env``, as the services load it (``required``: storage's
    ``REQUIRED`` unless given)."""
    from counterpromo_storage.config import REQUIRED, load_config

    names = resolve_env(env)
    with aws_errors():
        return load_config(names.env, required=REQUIRED if required is None else required)
