"""The one way Counter Promo code makes a ``stripe.StripeClient``.

From the configuration: the secret key (``stripe_secret_key``), and the API's base address
when ``stripe_api_base`` is set (the fake Stripe in tests and local stacks). Requests time
out instead of hanging for Stripe's default 80 s, and failed connections are retried with
the SDK's backoff (it adds an idempotency key to retried POSTs, so a retry never creates
twice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe
from counterpromo_storage import naming
from counterpromo_storage.config import ConfigurationError
from counterpromo_storage.settings import ENV_VARS

if TYPE_CHECKING:
    from counterpromo_storage.settings import AppConfig
    from stripe._base_address import BaseAddresses

CONNECT_TIMEOUT = 5.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds to wait for an answer
MAX_NETWORK_RETRIES = 2


class StripeNotConfigured(ConfigurationError):  # noqa: N818 - pairs with MissingConfiguration
    """The configuration has no Stripe secret key."""

    def __init__(self, env: str) -> None:
        secret = naming.EnvNames(env).path(naming.STRIPE_SECRET_KEY_SECRET)
        super().__init__(
            f"no Stripe secret key for environment {env!r}: "
            f"set env {ENV_VARS['stripe_secret_key']} or secret {secret}"
        )
        self.env = env


def connect(
    api_key: str,
    *,
    api_base: str | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    max_network_retries: int = MAX_NETWORK_RETRIES,
) -> stripe.StripeClient:
    """A ``StripeClient`` for ``api_key``, at ``api_base`` when given (else api.stripe.com).

    ``timeout`` is (connect, read) seconds. The HTTP client keeps one session per thread,
    so the client may be shared by threads.
    """
    base: BaseAddresses = {"api": api_base} if api_base else {}
    return stripe.StripeClient(
        api_key,
        base_addresses=base,
        max_network_retries=max_network_retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def stripe_client(
    config: AppConfig,
    *,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    max_network_retries: int = MAX_NETWORK_RETRIES,
) -> stripe.StripeClient:
    """The ``StripeClient`` of a process's configuration; ``StripeNotConfigured`` without a key."""
    if config.stripe_secret_key is None:
        raise StripeNotConfigured(config.env)
    return connect(
        config.stripe_secret_key.get_secret_value(),
        api_base=config.stripe_api_base,
        timeout=timeout,
        max_network_retries=max_network_retries,
    )
