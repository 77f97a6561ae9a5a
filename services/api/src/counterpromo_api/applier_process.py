"""The Stripe event applier in a child process of the API.

Applying an event waits on Stripe, builds the SDK's objects and writes to the database: in
the API's own process that work would take the GIL from requests, so a webhook storm would
slow every user down. In a child process it competes only for CPU, and at a lower priority
(``NICENESS``), so when the CPU is short the OS runs the requests first.

The child is ``spawn``ed (no thread or connection of the parent is copied), gets the
parent's ``AppConfig`` (no second read of SSM or Secrets Manager) and runs
``EventApplier`` until the parent stops it or is gone. ``nudge`` reaches it through a
``multiprocessing`` event, so a stored event is applied at once, not at the next poll.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

from counterpromo_billing.clients import stripe_client
from counterpromo_billing.event_applier import EventApplier
from counterpromo_billing.live_prices import LivePrices
from counterpromo_billing.prices import prices_from_config
from counterpromo_core.db import create_db_engine
from counterpromo_core.heap import freeze_startup_heap
from counterpromo_core.logging_setup import configure_logging
from counterpromo_storage.clients import ssm_client
from counterpromo_storage.settings import AppConfig
from stripe import StripeClient

log = logging.getLogger("counterpromo_api.applier")

PARENT_CHECK_SECONDS = 1.0
RESTART_CHECK_SECONDS = 2.0
NICENESS = 10
"""Added to the child's nice value: applying events yields the CPU to requests."""
STOP_SECONDS = 15.0
"""How long ``stop`` waits for lanes to finish the event they apply before killing."""


def live_prices(config: AppConfig) -> LivePrices:
    """The price maps of ``config``'s environment, followed in SSM (a ``price-map set`` is
    used without a restart), starting from the maps ``config`` already holds."""
    return LivePrices.from_ssm(
        ssm_client(config.region, config.aws_endpoint_url),
        config.env,
        initial=prices_from_config(config),
    )


def build_applier(
    config: AppConfig, lanes: int, *, stripe: StripeClient, prices: LivePrices
) -> EventApplier:
    """The applier of ``config``'s environment, on an engine of its own (one connection per
    lane, so a storm never takes connections from requests)."""
    engine = create_db_engine(config.database_url.get_secret_value(), pool_size=lanes)
    return EventApplier(engine, stripe=stripe, price_map=prices, concurrency=lanes)


def _serve(  # pragma: no cover - runs in the child process (the system tests drive it)
    config: AppConfig, *, lanes: int, log_level: str, wake: Event, stop: Event, parent: int
) -> None:
    configure_logging(log_level)
    # Background work: when the CPU is short, requests of the parent go first.
    os.nice(NICENESS)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Ctrl-C reaches the whole process group: the parent decides when this one stops.
        if signum == signal.SIGTERM:
            stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    client = stripe_client(config, max_network_retries=1)
    applier = build_applier(config, lanes, stripe=client, prices=live_prices(config))
    freeze_startup_heap()
    applier.start()
    log.info("stripe applier started", extra={"lanes": lanes, "pid": os.getpid()})
    try:
        while not stop.is_set() and os.getppid() == parent:
            if wake.wait(PARENT_CHECK_SECONDS):
                wake.clear()
                applier.nudge()
    finally:
        applier.stop()
        applier.engine.dispose()
        log.info("stripe applier stopped")


class ApplierProcess:
    """Start, nudge and stop the applier's child process (the ``EventApplier`` interface).

    A child that exits unasked (killed, out of memory, a failure while it starts) is
    replaced within ``RESTART_CHECK_SECONDS``, so stored events never wait for a restart
    of the API.
    """

    def __init__(self, config: AppConfig, *, lanes: int, log_level: str) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._wake = self._context.Event()
        self._stop = self._context.Event()
        self._kwargs = {
            "lanes": lanes,
            "log_level": log_level,
            "wake": self._wake,
            "stop": self._stop,
            "parent": os.getpid(),
        }
        self._config = config
        self._process = self._new_process()
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="stripe-applier-supervisor", daemon=True
        )

    def _new_process(self) -> BaseProcess:
        return self._context.Process(
            target=_serve,
            args=(self._config,),
            kwargs=self._kwargs,
            name="counterpromo-stripe-applier",
            daemon=True,
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> ApplierProcess:
        self._process.start()
        self._supervisor.start()
        return self

    def nudge(self) -> None:
        self._wake.set()

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def _supervise(self) -> None:
        while not self._stopping.wait(RESTART_CHECK_SECONDS):
            if self._process.is_alive():
                continue
            log.error(
                "stripe applier process exited (code %s): starting another",
                self._process.exitcode,
            )
            self._process.join(0)
            self._process = self._new_process()
            self._process.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the child to stop (lanes finish their current event), kill it after
        ``timeout`` s; events not applied stay stored for the next applier."""
        self._stopping.set()
        if self._supervisor.is_alive():
            self._supervisor.join()
        if self._process.pid is None:
            return
        self._stop.set()
        self._wake.set()
        self._process.join(timeout)
        if self._process.is_alive():
            log.warning("stripe applier did not stop in time: killed")
            self._process.kill()
            self._process.join(5)
