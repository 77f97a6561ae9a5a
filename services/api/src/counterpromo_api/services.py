"""The process-wide resources a request uses, built once per app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import stripe
from botocore.config import Config
from counterpromo_billing.clients import stripe_client
from counterpromo_billing.event_applier import EventApplier
from counterpromo_billing.live_prices import LivePrices
from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_core.ports import Clock, SystemClock
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.settings import AppConfig
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from counterpromo_api.applier_process import ApplierProcess, build_applier, live_prices
from counterpromo_api.oidc import OidcVerifier
from counterpromo_api.settings import ApiSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# A request must not hang on AWS: fail fast, the outbox keeps the job for the sweeper.
_FAST: Any = {"mode": "standard", "max_attempts": 2}


def _sqs(config: AppConfig) -> SQSClient:
    return boto3.client(
        "sqs",
        region_name=config.region,
        endpoint_url=config.aws_endpoint_url,
        config=Config(connect_timeout=2, read_timeout=5, retries=_FAST),
    )


def _s3(config: AppConfig) -> S3Client:
    # Signature v4 (presigned POST/GET); path-style for a local endpoint without subdomains.
    s3: Any = {"addressing_style": "path" if config.aws_endpoint_url else "virtual"}
    return boto3.client(
        "s3",
        region_name=config.region,
        endpoint_url=config.aws_endpoint_url,
        config=Config(signature_version="s3v4", s3=s3, connect_timeout=2, retries=_FAST),
    )


def _applier(
    config: AppConfig,
    settings: ApiSettings,
    client: stripe.StripeClient | None,
    prices: LivePrices,
) -> EventApplier | ApplierProcess | None:
    """The background applier of stored Stripe events: in a child process (the default),
    or in a thread of this one sharing its Stripe client and price maps
    (``WEBHOOK_APPLIER_PROCESS=false``)."""
    lanes = settings.webhook_applier_concurrency
    if client is None or lanes == 0:
        return None
    if settings.webhook_applier_process:
        return ApplierProcess(config, lanes=lanes, log_level=settings.log_level)
    return build_applier(config, lanes, stripe=client, prices=prices)


def _stripe(config: AppConfig) -> stripe.StripeClient | None:
    # Without a key the billing routes answer 503; everything else still works.
    if config.stripe_secret_key is None:
        return None
    return stripe_client(config, max_network_retries=1)


@dataclass
class Services:
    config: AppConfig
    settings: ApiSettings
    engine: Engine
    sessions: sessionmaker[Session]
    sqs: SQSClient
    queue: JobQueue
    blobs: BlobStore
    stripe: stripe.StripeClient | None
    # The price maps, followed in SSM (a ``price-map set`` is used without a restart).
    prices: LivePrices
    clock: Clock
    oidc: OidcVerifier | None
    applier: EventApplier | ApplierProcess | None
    # How many webhook deliveries this process stores at once; the rest wait their turn
    # (milliseconds: storing is one short transaction), so a burst from Stripe cannot crowd
    # out users' requests.
    webhook_intake: asyncio.Semaphore

    @classmethod
    def build(cls, config: AppConfig, settings: ApiSettings, *, clock: Clock | None) -> Services:
        engine = create_db_engine(config.database_url.get_secret_value())
        sqs = _sqs(config)
        oidc = None
        if settings.oidc_jwks_url and settings.oidc_issuer and settings.oidc_audience:
            oidc = OidcVerifier(
                settings.oidc_jwks_url,
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                algorithms=settings.oidc_algorithms,
            )
        client = _stripe(config)
        prices = live_prices(config)
        return cls(
            config=config,
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            sqs=sqs,
            queue=JobQueue(sqs, config.jobs_queue_url, config.jobs_dlq_url),
            blobs=BlobStore(_s3(config)),
            stripe=client,
            prices=prices,
            clock=clock or SystemClock(),
            oidc=oidc,
            applier=_applier(config, settings, client, prices),
            webhook_intake=asyncio.Semaphore(settings.webhook_max_concurrent),
        )

    def close(self) -> None:
        if self.applier is not None:
            self.applier.stop()
            if isinstance(self.applier, EventApplier):
                self.applier.engine.dispose()
        self.engine.dispose()


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
