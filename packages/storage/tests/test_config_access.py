"""A process whose role may not read a secret it does not require (the worker and the
Stripe secrets) still loads its configuration; one it requires is still an error.

moto's own server with IAM enforcement switched on (its /moto-api/reset-auth), so the
AccessDenied comes from AWS's API as moto serves it, for a real IAM user and policy."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from counterpromo_storage.config import ConfigLoader
from counterpromo_storage.testing import LocalAws

REGION = "eu-west-2"
NAMESPACE = "/counterpromo/locked"


def _auth_after(server: LocalAws, unauthenticated_requests: int) -> None:
    body = str(unauthenticated_requests).encode()  # moto reads the count as the whole body
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{server.endpoint}/moto-api/reset-auth",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},  # not a form: moto reads the raw body
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


@pytest.fixture
def locked_down() -> Iterator[tuple[LocalAws, dict[str, str]]]:
    """A moto server holding env ``locked`` and a user who may read its parameters and no
    secret at all (as the worker's task role: the database comes injected in the
    environment); yields the server and that user's credentials."""
    server = LocalAws().start()
    try:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        ssm = session.client("ssm", endpoint_url=server.endpoint)
        secrets = session.client("secretsmanager", endpoint_url=server.endpoint)
        iam = session.client("iam", endpoint_url=server.endpoint)
        for name, value in {
            "sqs/jobs_queue_url": "http://127.0.0.1/q",
            "sqs/jobs_dlq_url": "http://127.0.0.1/dlq",
            "s3/uploads_bucket": "u",
            "s3/assets_bucket": "a",
            "s3/exports_bucket": "e",
            "app/url": "https://example.test",
        }.items():
            ssm.put_parameter(Name=f"{NAMESPACE}/{name}", Value=value, Type="String")
        secrets.create_secret(Name=f"{NAMESPACE}/stripe/secret_key", SecretString="sk_test_x")
        secrets.create_secret(Name=f"{NAMESPACE}/stripe/webhook_secret", SecretString="whsec_x")
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ssm:GetParametersByPath", "Resource": "*"},
            ],
        }
        iam.create_user(UserName="worker")
        iam.put_user_policy(
            UserName="worker", PolicyName="worker", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="worker")["AccessKey"]
        _auth_after(server, 0)
        yield (
            server,
            {
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            },
        )
    finally:
        server.stop()


def test_an_unreadable_secret_that_is_not_required_is_left_unset(
    locked_down: tuple[LocalAws, dict[str, str]],
) -> None:
    server, credentials = locked_down
    worker = boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    ssm = worker.client("ssm", endpoint_url=server.endpoint)
    secrets = worker.client("secretsmanager", endpoint_url=server.endpoint)
    environ = {
        "COUNTERPROMO_ENV": "locked",
        "AWS_REGION": REGION,
        "DATABASE_URL": "postgresql+psycopg://u:p@db.internal:5432/counterpromo",
    }
    config = ConfigLoader(environ=environ, ssm=ssm, secretsmanager=secrets).load()
    assert config.jobs_queue_url == "http://127.0.0.1/q"
    assert config.stripe_secret_key is None
    assert not config.stripe_webhook_secrets
    required = ConfigLoader(
        environ=environ, required=("stripe_secret_key",), ssm=ssm, secretsmanager=secrets
    )
    with pytest.raises(ClientError, match="GetSecretValue"):
        required.load()
