"""Every SSM parameter and secret the application reads, under ``/counterpromo/{env}/``.

The five parameters the task definitions inject (queue URLs, bucket names) and the app URL
come from the resources themselves; the Stripe price ids are stack parameters (the starter
plan's DEV price is the seed's); the Stripe secrets are created empty-valued (a random
placeholder) and set by an operator, never by CloudFormation afterwards.
"""

from __future__ import annotations

from aws_cdk import CfnParameter, RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from counterpromo_infra import names as n
from counterpromo_infra.data import Buckets, Database, JobQueues
from counterpromo_infra.names import Names
from counterpromo_infra.settings import EnvSettings

SEED_STARTER_PRICE = "price_1SvgC3GTMcpBWf0yIiwTxLYq"


class Configuration(Construct):
    """The application's parameters and secrets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvSettings,
        database: Database,
        buckets: Buckets,
        queues: JobQueues,
        devlocal: JobQueues | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.names = Names(settings.env, settings.account)
        self.injected: dict[str, ssm.StringParameter] = {
            "JOBS_QUEUE_URL": self.parameter(n.JOBS_QUEUE_URL_PARAM, queues.queue.queue_url),
            "JOBS_DLQ_URL": self.parameter(n.JOBS_DLQ_URL_PARAM, queues.dlq.queue_url),
            "UPLOADS_BUCKET": self.parameter(
                n.UPLOADS_BUCKET_PARAM, buckets.buckets["uploads"].bucket_name
            ),
            "ASSETS_BUCKET": self.parameter(
                n.ASSETS_BUCKET_PARAM, buckets.buckets["assets"].bucket_name
            ),
            "EXPORTS_BUCKET": self.parameter(
                n.EXPORTS_BUCKET_PARAM, buckets.buckets["exports"].bucket_name
            ),
            "APP_URL": self.parameter(n.APP_URL_PARAM, f"https://{settings.host}"),
        }
        public_origin = CfnParameter(
            scope,
            "PublicOrigin",
            type="String",
            # An origin only: scheme and host, no path (the API adds the prefix it was
            # reached by, /api behind the ALB) and no trailing slash.
            allowed_pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?$",
            constraint_description="an origin such as https://app.example.com (no path)",
            description="The API's public origin, written to /counterpromo/{env}/api/public_url",
            default=f"https://{settings.host}",
        ).value_as_string
        self.public_origin = self.parameter(n.API_PUBLIC_URL_PARAM, public_origin)
        self.parameter("db/host", database.instance.db_instance_endpoint_address)
        self.parameter("db/port", database.instance.db_instance_endpoint_port)
        self.parameter("db/name", "counterpromo")
        for plan in n.PLANS_WITH_PRICES:
            default = SEED_STARTER_PRICE if plan == "starter" and not settings.is_prod else None
            price = CfnParameter(
                scope,
                f"Price{plan.title()}Monthly",
                type="String",
                allowed_pattern=r"^price_[A-Za-z0-9_]+$",
                description=f"Stripe price id of the {plan} plan (monthly)",
                default=default,
            ).value_as_string
            self.parameter(n.plan_price_param(plan), price, construct_id=f"PricePlan{plan}")
            self.parameter(n.price_map_param(price), plan, construct_id=f"PriceMap{plan}")
        if devlocal is not None:
            self.parameter(n.JOBS_QUEUE_URL_PARAM, devlocal.queue.queue_url, env="devlocal")
            self.parameter(n.JOBS_DLQ_URL_PARAM, devlocal.dlq.queue_url, env="devlocal")
        self.stripe_secret_key = self.secret(n.STRIPE_SECRET_KEY_SECRET, "Stripe secret API key")
        self.stripe_webhook_secret = self.secret(
            n.STRIPE_WEBHOOK_SECRET_SECRET,
            "Stripe webhook signing secret(s), comma-separated during a rotation",
        )

    def parameter(
        self, relative: str, value: str, *, env: str | None = None, construct_id: str | None = None
    ) -> ssm.StringParameter:
        name = self.names.path(relative, env)
        key = construct_id or name.strip("/").replace("/", "-")
        return ssm.StringParameter(
            self, key, parameter_name=name, string_value=value, simple_name=False
        )

    def secret(self, relative: str, description: str) -> secretsmanager.Secret:
        # Created with a random placeholder; the operator puts the real value (README).
        # Rotation is Stripe's (roll the key in the dashboard), not a Lambda's.
        secret = secretsmanager.Secret(
            self,
            relative.replace("/", "-"),
            secret_name=self.names.path(relative),
            description=description,
        )
        secret.apply_removal_policy(RemovalPolicy.RETAIN)
        return secret
