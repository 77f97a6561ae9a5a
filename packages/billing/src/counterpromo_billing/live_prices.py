"""The price maps, followed live in SSM: a ``price-map set`` is seen without a restart.

``LivePrices`` holds the maps read from SSM (``billing/price_map/{priceId}`` and
``stripe/price_{plan}_monthly`` under the environment's namespace) and reads them
again when they are older than ``max_age`` seconds (60 by default), so they are
at most a minute stale. Webhook processing also calls ``refresh()`` on a price it
does not know before giving up on it, so a price mapped a second ago is used at once.

It has ``price_map`` and ``plan_prices`` like storage's ``AppConfig``, so it goes
wherever the billing functions take a price source. Safe to share between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from counterpromo_storage import naming
from counterpromo_storage.config import read_parameters

from counterpromo_billing.prices import Prices

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

DEFAULT_MAX_AGE = 60.0
log = logging.getLogger("counterpromo_billing.prices")


def prices_from_parameters(parameters: Mapping[str, str]) -> Prices:
    """Both maps out of an environment's parameters (names relative to its namespace)."""
    price_map: dict[str, str] = {}
    plan_prices: dict[str, str] = {}
    for relative, value in parameters.items():
        if relative.startswith(naming.PRICE_MAP_PREFIX) and value.strip():
            price_map[relative.removeprefix(naming.PRICE_MAP_PREFIX)] = value.strip()
        elif (match := naming.PLAN_PRICE_PATTERN.match(relative)) and value.strip():
            plan_prices[match["plan"]] = value.strip()
    return Prices(price_map=price_map, plan_prices=plan_prices)


class LivePrices:
    """Price maps re-read by ``read`` when older than ``max_age`` seconds, or on ``refresh()``."""

    def __init__(
        self,
        read: Callable[[], Prices],
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        initial: Prices | None = None,
    ) -> None:
        """``initial``: the maps already read (e.g. the process's ``AppConfig``), used until
        ``max_age`` passes; a timed re-read that fails keeps the last maps (and logs)."""
        self._read = read
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._prices: Prices | None = initial
        self._read_at = clock() if initial is not None else 0.0

    @classmethod
    def from_ssm(
        cls,
        ssm: SSMClient,
        env: str,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        initial: Prices | None = None,
    ) -> LivePrices:
        """The maps of environment ``env`` in SSM."""
        namespace = naming.EnvNames(env).namespace
        return cls(
            lambda: prices_from_parameters(read_parameters(ssm, namespace)),
            max_age=max_age,
            clock=clock,
            initial=initial,
        )

    def current(self) -> Prices:
        with self._lock:
            if self._prices is None:
                self._prices = self._read()
                self._read_at = self._clock()
            elif self._clock() - self._read_at > self._max_age:
                try:
                    self._prices = self._read()
                except Exception:  # SSM unreachable: the last maps beat no maps
                    log.warning(
                        "could not re-read the price map; keeping the last one", exc_info=True
                    )
                self._read_at = self._clock()
            return self._prices

    def refresh(self) -> Prices:
        """Read SSM now (e.g. on a price the cached map does not know)."""
        with self._lock:
            self._prices = self._read()
            self._read_at = self._clock()
            return self._prices

    @property
    def price_map(self) -> Mapping[str, str]:
        return self.current().price_map

    @property
    def plan_prices(self) -> Mapping[str, str]:
        return self.current().plan_prices


__all__ = ["DEFAULT_MAX_AGE", "LivePrices", "prices_from_parameters"]
