"""The names of an environment's resources: the existing DEV environment's where it has one.

Source: the seed's environment facts (``counterpromo-dev-svc-worker``,
``counterpromo-dev-ecs-task-app``, ``counterpromo-dev-ecs-exec-default``,
``counterpromo-dev-tg-api``, ...). The API service has no name there; it follows the same
pattern (``counterpromo-{env}-svc-api``). The application's SSM and secret names are
storage's (``counterpromo_storage.naming``), repeated here because infra must not depend
on the application; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

# Relative to /counterpromo/{env}/ (counterpromo_storage.naming).
JOBS_QUEUE_URL_PARAM = "sqs/jobs_queue_url"
JOBS_DLQ_URL_PARAM = "sqs/jobs_dlq_url"
UPLOADS_BUCKET_PARAM = "s3/uploads_bucket"
ASSETS_BUCKET_PARAM = "s3/assets_bucket"
EXPORTS_BUCKET_PARAM = "s3/exports_bucket"
APP_URL_PARAM = "app/url"
# The API's public origin (``https://app.example.com``): the API appends the path prefix a
# request came in by (``/api``) to build absolute URLs.
API_PUBLIC_URL_PARAM = "api/public_url"
PLANS_WITH_PRICES = ("starter", "pro", "dealer")
DATABASE_SECRET = "db/postgres"  # noqa: S105 - a name, not a value
STRIPE_SECRET_KEY_SECRET = "stripe/secret_key"  # noqa: S105
STRIPE_WEBHOOK_SECRET_SECRET = "stripe/webhook_secret"  # noqa: S105
# Where the stack publishes what release.sh and the workflows need (one list of names).
DEPLOY_PREFIX = "deploy/"


def plan_price_param(plan: str) -> str:
    return f"stripe/price_{plan}_monthly"


def price_map_param(price_id: str) -> str:
    return f"billing/price_map/{price_id}"


@dataclass(frozen=True)
class Names:
    env: str
    account: str

    def prefix(self, what: str) -> str:
        return f"counterpromo-{self.env}-{what}"

    def path(self, relative: str, env: str | None = None) -> str:
        return f"/counterpromo/{env or self.env}/{relative}"

    @property
    def stack(self) -> str:
        return f"CounterPromo-{self.env}"

    vpc = property(lambda self: self.prefix("vpc"))
    alb = property(lambda self: self.prefix("alb"))
    cluster = property(lambda self: self.prefix("cluster"))
    api_service = property(lambda self: self.prefix("svc-api"))
    worker_service = property(lambda self: self.prefix("svc-worker"))
    api_family = property(lambda self: self.prefix("td-api"))
    worker_family = property(lambda self: self.prefix("td-worker"))
    api_target_group = property(lambda self: self.prefix("tg-api"))
    web_target_group = property(lambda self: self.prefix("tg-web"))
    task_role = property(lambda self: self.prefix("ecs-task-app"))
    worker_task_role = property(lambda self: self.prefix("ecs-task-worker"))
    execution_role = property(lambda self: self.prefix("ecs-exec-default"))
    deployer_role = property(lambda self: self.prefix("github-deployer"))
    database = property(lambda self: self.prefix("postgres"))
    alerts_topic = property(lambda self: self.prefix("alerts"))

    @property
    def log_group(self) -> str:
        return f"/ecs/counterpromo-{self.env}"

    def security_group(self, role: str) -> str:
        return self.prefix(f"sg-{role}")

    def bucket(self, kind: str) -> str:
        return f"counterpromo-{self.env}-{kind}-{self.account}"

    def queue(self, env: str | None = None) -> str:
        return f"counterpromo-{env or self.env}-jobs"

    def dlq(self, env: str | None = None) -> str:
        return f"counterpromo-{env or self.env}-jobs-dlq"

    def repository(self, service: str) -> str:
        """Each environment has its own repositories (PROD may be another account):
        promotion copies DEV's image into PROD's repository."""
        return self.prefix(service)
