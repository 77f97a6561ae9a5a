"""The names of an environment's resources, shared by provisioning and the config loader.

They follow the seed infrastructure: ``counterpromo-{env}-uploads-{account}`` buckets,
``counterpromo-{env}-jobs`` (+ ``-dlq``) queues, SSM parameters and secrets under
``/counterpromo/{env}/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGION = "eu-west-2"
LOCAL_ACCOUNT_SUFFIX = "000000000000"
PLANS_WITH_PRICES = ("starter", "pro", "dealer")

# Parameter names relative to the environment's namespace.
JOBS_QUEUE_URL_PARAM = "sqs/jobs_queue_url"
JOBS_DLQ_URL_PARAM = "sqs/jobs_dlq_url"
UPLOADS_BUCKET_PARAM = "s3/uploads_bucket"
ASSETS_BUCKET_PARAM = "s3/assets_bucket"
EXPORTS_BUCKET_PARAM = "s3/exports_bucket"
APP_URL_PARAM = "app/url"
API_PUBLIC_URL_PARAM = "api/public_url"
PRICE_MAP_PREFIX = "billing/price_map/"
PLAN_PRICE_PATTERN = re.compile(r"^stripe/price_(?P<plan>[a-z0-9_]+)_monthly$")

# Secret names (not values) relative to the environment's namespace.
DATABASE_SECRET = "db/postgres"  # noqa: S105
STRIPE_SECRET_KEY_SECRET = "stripe/secret_key"  # noqa: S105
STRIPE_WEBHOOK_SECRET_SECRET = "stripe/webhook_secret"  # noqa: S105

_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def plan_price_param(plan: str) -> str:
    return f"stripe/price_{plan}_monthly"


def validate_env(env: str) -> str:
    """Refuse environment names that would make invalid or surprising resource names."""
    if not _ENV_NAME.match(env):
        raise ValueError(
            f"invalid environment name {env!r}: use lowercase letters, digits and '-', "
            "starting with a letter (e.g. 'dev', 'local')"
        )
    return env


@dataclass(frozen=True)
class EnvNames:
    """Every resource name of one environment."""

    env: str
    account_suffix: str = LOCAL_ACCOUNT_SUFFIX

    def __post_init__(self) -> None:
        validate_env(self.env)
        if not self.account_suffix.isalnum():
            raise ValueError(f"invalid account suffix {self.account_suffix!r}")

    @property
    def namespace(self) -> str:
        return f"/counterpromo/{self.env}/"

    def path(self, relative: str) -> str:
        """The full SSM parameter / secret name of ``relative`` in this environment."""
        return self.namespace + relative

    def bucket(self, kind: str) -> str:
        return f"counterpromo-{self.env}-{kind}-{self.account_suffix}"

    @property
    def uploads_bucket(self) -> str:
        return self.bucket("uploads")

    @property
    def assets_bucket(self) -> str:
        return self.bucket("assets")

    @property
    def exports_bucket(self) -> str:
        return self.bucket("exports")

    @property
    def jobs_queue(self) -> str:
        return f"counterpromo-{self.env}-jobs"

    @property
    def jobs_dlq(self) -> str:
        return f"counterpromo-{self.env}-jobs-dlq"
