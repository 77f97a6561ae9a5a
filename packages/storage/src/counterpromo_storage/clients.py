"""boto3 clients with the right region, endpoint and signature settings.

``endpoint_url`` (``AWS_ENDPOINT_URL``) points every client at a local AWS such as
moto's server; without it boto3 talks to AWS itself. The code path is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from counterpromo_storage.naming import DEFAULT_REGION

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

    from counterpromo_storage.settings import AppConfig

_RETRIES: Any = {"mode": "standard", "max_attempts": 5}


def _config(service: str, endpoint_url: str | None) -> Config:
    if service != "s3":
        return Config(retries=_RETRIES)
    # Signature v4 everywhere (presigned URLs included); path-style addressing for a
    # local endpoint such as http://127.0.0.1:port, which has no bucket subdomains.
    s3: Any = {"addressing_style": "path" if endpoint_url else "virtual"}
    return Config(signature_version="s3v4", s3=s3, retries=_RETRIES)


def s3_client(region: str = DEFAULT_REGION, endpoint_url: str | None = None) -> S3Client:
    return boto3.client(
        "s3", region_name=region, endpoint_url=endpoint_url, config=_config("s3", endpoint_url)
    )


def sqs_client(region: str = DEFAULT_REGION, endpoint_url: str | None = None) -> SQSClient:
    return boto3.client(
        "sqs", region_name=region, endpoint_url=endpoint_url, config=_config("sqs", endpoint_url)
    )


def ssm_client(region: str = DEFAULT_REGION, endpoint_url: str | None = None) -> SSMClient:
    return boto3.client(
        "ssm", region_name=region, endpoint_url=endpoint_url, config=_config("ssm", endpoint_url)
    )


def secrets_client(
    region: str = DEFAULT_REGION, endpoint_url: str | None = None
) -> SecretsManagerClient:
    return boto3.client(
        "secretsmanager",
        region_name=region,
        endpoint_url=endpoint_url,
        config=_config("secretsmanager", endpoint_url),
    )


@dataclass(frozen=True)
class AwsClients:
    s3: S3Client
    sqs: SQSClient
    ssm: SSMClient
    secretsmanager: SecretsManagerClient


def make_clients(region: str = DEFAULT_REGION, endpoint_url: str | None = None) -> AwsClients:
    return AwsClients(
        s3=s3_client(region, endpoint_url),
        sqs=sqs_client(region, endpoint_url),
        ssm=ssm_client(region, endpoint_url),
        secretsmanager=secrets_client(region, endpoint_url),
    )


def aws_clients(config: AppConfig) -> AwsClients:
    """The clients for a loaded configuration (its region and endpoint)."""
    return make_clients(config.region, config.aws_endpoint_url)
