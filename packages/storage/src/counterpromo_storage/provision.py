"""Create an environment's AWS resources with the seed's names.

Buckets, queues, SSM parameters and secrets of an environment (docs/architecture.md,
"Configuration"; the names are in this package's README).

For local stacks only (moto, a developer's machine); deployed environments are the
``infra`` member's CDK stack. Idempotent, and it never changes what exists: a missing
resource, setting or parameter is created; an existing bucket's lifecycle rules, CORS,
versioning and public access block, an existing queue's attributes (visibility timeout,
redrive) and an existing parameter's value are left as they are, and every difference from
what provision would have written is reported in ``ProvisionedEnv.differences``. An
existing secret is kept (it may have been rotated) unless a new value is given explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from counterpromo_storage import naming
from counterpromo_storage.clients import AwsClients, make_clients
from counterpromo_storage.config import read_parameters, read_secret
from counterpromo_storage.naming import DEFAULT_REGION, LOCAL_ACCOUNT_SUFFIX, EnvNames

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        BucketLifecycleConfigurationTypeDef,
        CORSConfigurationTypeDef,
        LifecycleRuleTypeDef,
        PublicAccessBlockConfigurationTypeDef,
        ServerSideEncryptionConfigurationTypeDef,
    )
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

# Stripe test-mode price of the starter plan in the seed; the other plans get placeholder
# ids until their prices exist in Stripe.
STARTER_PRICE_ID = "price_1SvgC3GTMcpBWf0yIiwTxLYq"
DEFAULT_PLAN_PRICES: Mapping[str, str] = {
    "starter": STARTER_PRICE_ID,
    "pro": "price_counterpromo_pro_monthly",
    "dealer": "price_counterpromo_dealer_monthly",
}
LOCAL_STRIPE_SECRET_KEY = "sk_test_local"  # noqa: S105 - dummy for local stacks
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_local_counterpromo_webhook_secret"  # noqa: S105
LOCAL_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@dataclass(frozen=True)
class DatabaseSecret:
    """The RDS-style JSON secret of the environment's database."""

    username: str = "counterpromo"
    password: str = "counterpromo"  # noqa: S105 - the local default, never a real account's
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "counterpromo"

    def to_json(self) -> str:
        return json.dumps(
            {
                "engine": "postgres",
                "username": self.username,
                "password": self.password,
                "host": self.host,
                "port": self.port,
                "dbname": self.dbname,
            }
        )


@dataclass(frozen=True)
class ProvisionValues:
    """What to write. Secrets left as None keep an existing secret or get a local default."""

    app_url: str = "http://localhost:3000"
    plan_prices: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PLAN_PRICES))
    database: DatabaseSecret | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    visibility_timeout: int = 60
    max_receive_count: int = 5
    # Uploads are parsed within minutes and exports re-made on demand; keep neither long.
    expire_uploads_days: int = 30
    expire_exports_days: int = 30
    expire_noncurrent_days: int = 7
    # Origins allowed to post uploads from a browser; empty: the app's own origin.
    cors_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvisionedEnv:
    """Every name and URL of a provisioned environment."""

    env: str
    endpoint_url: str | None
    region: str
    account_suffix: str
    uploads_bucket: str
    assets_bucket: str
    exports_bucket: str
    jobs_queue_url: str
    jobs_dlq_url: str
    app_url: str
    plan_prices: Mapping[str, str]
    price_map: Mapping[str, str]
    parameters: Mapping[str, str]
    secret_ids: Mapping[str, str]
    # What exists with other settings than provision's (left unchanged), one line each.
    differences: tuple[str, ...] = ()

    def environ(self) -> dict[str, str]:
        """Environment variables that make ``load_config()`` read this environment.

        Dummy credentials are included only for a local endpoint, never for AWS itself.
        """
        out = {
            "COUNTERPROMO_ENV": self.env,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if self.endpoint_url:
            out["AWS_ENDPOINT_URL"] = self.endpoint_url
            out.update(LOCAL_CREDENTIALS)
        return out


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _lifecycle(kind: str, values: ProvisionValues) -> BucketLifecycleConfigurationTypeDef:
    rules: list[LifecycleRuleTypeDef] = [
        {
            "ID": "expire-noncurrent-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": values.expire_noncurrent_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
    days = {"uploads": values.expire_uploads_days, "exports": values.expire_exports_days}
    if kind in days:
        rules.append(
            {
                "ID": f"expire-{kind}",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Expiration": {"Days": days[kind]},
            }
        )
    return {"Rules": rules}


def _cors(values: ProvisionValues) -> CORSConfigurationTypeDef:
    return {
        "CORSRules": [
            {
                "AllowedMethods": ["POST", "GET", "HEAD"],
                "AllowedOrigins": list(values.cors_origins) or [values.app_url.rstrip("/")],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3000,
            }
        ]
    }


_PUBLIC_ACCESS_BLOCK: PublicAccessBlockConfigurationTypeDef = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
_ENCRYPTION: ServerSideEncryptionConfigurationTypeDef = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}],
}


def _ensure_bucket(
    s3: S3Client,
    name: str,
    kind: str,
    region: str,
    values: ProvisionValues,
    *,
    differences: list[str],
) -> None:
    create: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**create)
        existed = False
    except ClientError as error:
        if _error_code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise
        existed = True

    lifecycle = _lifecycle(kind, values)
    cors = _cors(values) if kind == "uploads" else None
    if not existed:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=_PUBLIC_ACCESS_BLOCK)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=_ENCRYPTION)
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=lifecycle)
        if cors:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration=cors)
        return
    differences.extend(_compare_bucket(s3, name, lifecycle, cors))


def _get_or_none(call: Any, key: str, missing_codes: set[str], **kwargs: Any) -> Any:
    try:
        return call(**kwargs).get(key)
    except ClientError as error:
        if _error_code(error) in missing_codes:
            return None
        raise


def _compare_bucket(
    s3: S3Client,
    name: str,
    lifecycle: BucketLifecycleConfigurationTypeDef,
    cors: CORSConfigurationTypeDef | None,
) -> list[str]:
    """An existing bucket: report (never change) the settings that differ from ours."""
    found: list[str] = []
    block = _get_or_none(
        s3.get_public_access_block,
        "PublicAccessBlockConfiguration",
        {"NoSuchPublicAccessBlockConfiguration"},
        Bucket=name,
    )
    if block != _PUBLIC_ACCESS_BLOCK:
        found.append(f"bucket {name}: public access block is {block}, not all blocked")
    status = s3.get_bucket_versioning(Bucket=name).get("Status", "off")
    if status != "Enabled":
        found.append(f"bucket {name}: versioning is {status}, not Enabled")
    rules = _get_or_none(
        s3.get_bucket_lifecycle_configuration,
        "Rules",
        {"NoSuchLifecycleConfiguration"},
        Bucket=name,
    )
    ours = sorted(rule["ID"] for rule in lifecycle["Rules"])
    theirs = sorted(str(rule.get("ID")) for rule in rules or [])
    if theirs != ours:
        found.append(f"bucket {name}: lifecycle rules {theirs}, provision's are {ours}")
    if cors is not None:
        current = _get_or_none(
            s3.get_bucket_cors, "CORSRules", {"NoSuchCORSConfiguration"}, Bucket=name
        )
        if current != cors["CORSRules"]:
            found.append(f"bucket {name}: CORS differs from provision's (left as it is)")
    return found


def _ensure_queue(
    sqs: SQSClient,
    name: str,
    attributes: dict[QueueAttributeNameType, str],
    differences: list[str],
) -> str:
    """Create the queue; an existing one keeps its attributes (differences are reported)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if _error_code(error) not in {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        }:
            raise
        return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    for key, value in attributes.items():
        theirs = current.get(key)
        if key == "RedrivePolicy" and theirs is not None:
            # maxReceiveCount comes back as a number or a string: compare as strings.
            same = {k: str(v) for k, v in json.loads(theirs).items()} == {
                k: str(v) for k, v in json.loads(value).items()
            }
        else:
            same = theirs == value
        if not same:
            differences.append(f"queue {name}: {key} is {theirs}, provision's is {value}")
    return url


def _ensure_queues(
    sqs: SQSClient, names: EnvNames, values: ProvisionValues, differences: list[str]
) -> tuple[str, str]:
    dlq_url = _ensure_queue(
        sqs, names.jobs_dlq, {"MessageRetentionPeriod": str(14 * 24 * 3600)}, differences
    )
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(values.max_receive_count)},
        separators=(",", ":"),
    )
    queue_url = _ensure_queue(
        sqs,
        names.jobs_queue,
        {
            "VisibilityTimeout": str(values.visibility_timeout),
            "ReceiveMessageWaitTimeSeconds": "20",
            "MessageRetentionPeriod": str(4 * 24 * 3600),
            "RedrivePolicy": redrive,
        },
        differences,
    )
    return queue_url, dlq_url


def _ensure_secret(
    clients: AwsClients, secret_id: str, given: str | None, default: str, description: str
) -> None:
    try:
        clients.secretsmanager.create_secret(
            Name=secret_id, SecretString=given or default, Description=description
        )
    except ClientError as error:
        if _error_code(error) != "ResourceExistsException":
            raise
        # An existing secret is kept (it may have been rotated) unless a new value is given.
        if given is not None and read_secret(clients.secretsmanager, secret_id) != given:
            clients.secretsmanager.put_secret_value(SecretId=secret_id, SecretString=given)


def provision(
    env: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    account_suffix: str = LOCAL_ACCOUNT_SUFFIX,
    values: ProvisionValues | None = None,
    clients: AwsClients | None = None,
) -> ProvisionedEnv:
    """Create (or bring up to date) every resource of ``env``; return their names and URLs."""
    values = values or ProvisionValues()
    names = EnvNames(env, account_suffix)
    region = (
        region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )
    clients = clients or make_clients(region, endpoint_url)

    buckets = {
        "uploads": names.uploads_bucket,
        "assets": names.assets_bucket,
        "exports": names.exports_bucket,
    }
    differences: list[str] = []
    for kind, bucket in buckets.items():
        _ensure_bucket(clients.s3, bucket, kind, region, values, differences=differences)
    queue_url, dlq_url = _ensure_queues(clients.sqs, names, values, differences)

    parameters = {
        naming.JOBS_QUEUE_URL_PARAM: queue_url,
        naming.JOBS_DLQ_URL_PARAM: dlq_url,
        naming.UPLOADS_BUCKET_PARAM: names.uploads_bucket,
        naming.ASSETS_BUCKET_PARAM: names.assets_bucket,
        naming.EXPORTS_BUCKET_PARAM: names.exports_bucket,
        naming.APP_URL_PARAM: values.app_url,
    }
    for plan, price in values.plan_prices.items():
        parameters[naming.plan_price_param(plan)] = price
        parameters[naming.PRICE_MAP_PREFIX + price] = plan
    existing = read_parameters(clients.ssm, names.namespace)
    for relative, value in parameters.items():
        if relative not in existing:
            clients.ssm.put_parameter(Name=names.path(relative), Value=value, Type="String")
        elif existing[relative] != value:
            differences.append(
                f"parameter {names.path(relative)} is {existing[relative]!r}, "
                f"provision's is {value!r} (left as it is)"
            )
            parameters[relative] = existing[relative]

    secret_ids = {
        "database": names.path(naming.DATABASE_SECRET),
        "stripe_secret_key": names.path(naming.STRIPE_SECRET_KEY_SECRET),
        "stripe_webhook_secret": names.path(naming.STRIPE_WEBHOOK_SECRET_SECRET),
    }
    _ensure_secret(
        clients,
        secret_ids["database"],
        values.database.to_json() if values.database else None,
        DatabaseSecret().to_json(),
        "Counter Promo database (RDS JSON)",
    )
    _ensure_secret(
        clients,
        secret_ids["stripe_secret_key"],
        values.stripe_secret_key,
        LOCAL_STRIPE_SECRET_KEY,
        "Stripe secret API key",
    )
    _ensure_secret(
        clients,
        secret_ids["stripe_webhook_secret"],
        values.stripe_webhook_secret,
        LOCAL_STRIPE_WEBHOOK_SECRET,
        "Stripe webhook signing secret(s), comma-separated during a rotation",
    )

    return ProvisionedEnv(
        env=env,
        endpoint_url=endpoint_url,
        region=region,
        account_suffix=account_suffix,
        uploads_bucket=names.uploads_bucket,
        assets_bucket=names.assets_bucket,
        exports_bucket=names.exports_bucket,
        jobs_queue_url=queue_url,
        jobs_dlq_url=dlq_url,
        app_url=values.app_url,
        plan_prices=dict(values.plan_prices),
        price_map={price: plan for plan, price in values.plan_prices.items()},
        parameters={names.path(relative): value for relative, value in parameters.items()},
        secret_ids=secret_ids,
        differences=tuple(differences),
    )
