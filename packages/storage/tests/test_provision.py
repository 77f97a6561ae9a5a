"""provision() creates the seed's resources on moto's server and is idempotent."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from counterpromo_storage.clients import make_clients
from counterpromo_storage.provision import (
    STARTER_PRICE_ID,
    ProvisionedEnv,
    ProvisionValues,
    provision,
)
from counterpromo_storage.testing import LocalAws

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CORSRuleTypeDef, LifecycleRuleTypeDef


def _snapshot(env: ProvisionedEnv) -> dict[str, Any]:
    """Everything provision manages, read back from AWS."""
    aws = make_clients(env.region, env.endpoint_url)
    s3, sqs, ssm, secrets = aws.s3, aws.sqs, aws.ssm, aws.secretsmanager
    buckets: dict[str, Any] = {}
    for bucket in (env.uploads_bucket, env.assets_bucket, env.exports_bucket):
        buckets[bucket] = {
            "versioning": s3.get_bucket_versioning(Bucket=bucket)["Status"],
            "block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        }
    parameters = ssm.get_parameters_by_path(Path="/counterpromo/test", Recursive=True)
    return {
        "buckets": buckets,
        "queues": sorted(sqs.list_queues()["QueueUrls"]),
        "main": sqs.get_queue_attributes(QueueUrl=env.jobs_queue_url, AttributeNames=["All"])[
            "Attributes"
        ],
        "parameters": {p["Name"]: (p["Value"], p["Version"]) for p in parameters["Parameters"]},
        "secrets": {
            s["Name"]: secrets.describe_secret(SecretId=s["ARN"])["VersionIdsToStages"]
            for s in secrets.list_secrets()["SecretList"]
        },
    }


def test_provision_creates_the_seed_names(provisioned_aws: ProvisionedEnv) -> None:
    env = provisioned_aws
    assert env.uploads_bucket == "counterpromo-test-uploads-000000000000"
    assert env.exports_bucket == "counterpromo-test-exports-000000000000"
    assert env.jobs_queue_url.endswith("/counterpromo-test-jobs")
    assert env.jobs_dlq_url.endswith("/counterpromo-test-jobs-dlq")
    snap = _snapshot(env)
    buckets = snap["buckets"]
    for bucket in buckets.values():
        assert bucket["versioning"] == "Enabled"
        assert all(bucket["block"].values())
        assert any("NoncurrentVersionExpiration" in rule for rule in bucket["lifecycle"])
    assert any("Expiration" in rule for rule in buckets[env.uploads_bucket]["lifecycle"])
    main = snap["main"]
    redrive = json.loads(main["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    assert redrive["deadLetterTargetArn"].endswith(":counterpromo-test-jobs-dlq")
    parameters = snap["parameters"]
    assert parameters["/counterpromo/test/sqs/jobs_queue_url"][0] == env.jobs_queue_url
    assert parameters["/counterpromo/test/stripe/price_starter_monthly"][0] == STARTER_PRICE_ID
    assert parameters[f"/counterpromo/test/billing/price_map/{STARTER_PRICE_ID}"][0] == "starter"
    assert parameters["/counterpromo/test/app/url"][0] == env.app_url
    assert set(snap["secrets"]) == {
        "/counterpromo/test/db/postgres",
        "/counterpromo/test/stripe/secret_key",
        "/counterpromo/test/stripe/webhook_secret",
    }


def test_uploads_bucket_allows_browser_posts(provisioned_aws: ProvisionedEnv) -> None:
    s3 = make_clients(provisioned_aws.region, provisioned_aws.endpoint_url).s3
    rules = s3.get_bucket_cors(Bucket=provisioned_aws.uploads_bucket)["CORSRules"]
    assert "POST" in rules[0]["AllowedMethods"]


def test_provision_twice_changes_nothing(provisioned_aws: ProvisionedEnv) -> None:
    before = _snapshot(provisioned_aws)
    again = provision("test", endpoint_url=provisioned_aws.endpoint_url)
    assert again == provisioned_aws
    assert _snapshot(again) == before


def test_provision_updates_a_secret_only_when_given(provisioned_aws: ProvisionedEnv) -> None:
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=provisioned_aws.endpoint_url,
        region_name=provisioned_aws.region,
    )
    secret_id = provisioned_aws.secret_ids["stripe_webhook_secret"]
    provision(
        "test",
        endpoint_url=provisioned_aws.endpoint_url,
        values=ProvisionValues(stripe_webhook_secret="whsec_new,whsec_old"),
    )
    provision("test", endpoint_url=provisioned_aws.endpoint_url)  # no value: kept
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    assert value == "whsec_new,whsec_old"


def test_environments_do_not_share_resources(aws_endpoint: str) -> None:
    dev = provision("devlocal", endpoint_url=aws_endpoint, account_suffix="437064342167")
    test = provision("test", endpoint_url=aws_endpoint)
    assert dev.uploads_bucket == "counterpromo-devlocal-uploads-437064342167"
    assert dev.jobs_queue_url != test.jobs_queue_url


def test_invalid_environment_name_is_refused_before_any_request(local_aws: LocalAws) -> None:
    with pytest.raises(ValueError, match="invalid environment name"):
        provision("Prod/../x", endpoint_url="http://127.0.0.1:9")  # nothing listens there


def test_environ_points_at_the_environment(provisioned_aws: ProvisionedEnv) -> None:
    environ = provisioned_aws.environ()
    assert environ["COUNTERPROMO_ENV"] == "test"
    assert environ["AWS_ENDPOINT_URL"] == provisioned_aws.endpoint_url
    assert environ["AWS_REGION"] == "eu-west-2"
    assert environ["AWS_ACCESS_KEY_ID"]


def test_provision_never_changes_an_existing_environment(local_aws: LocalAws) -> None:
    """An environment that exists (as DEV does) keeps its lifecycle rules, CORS, queue
    attributes and parameters; provision reports the differences instead."""
    aws = make_clients("eu-west-2", local_aws.endpoint)
    local_aws.reset()
    bucket = "counterpromo-kept-uploads-000000000000"
    aws.s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    lifecycle: list[LifecycleRuleTypeDef] = [
        {
            "ID": "operators-rule",
            "Status": "Enabled",
            "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 3},
        }
    ]
    aws.s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle}
    )
    cors: list[CORSRuleTypeDef] = [
        {"AllowedMethods": ["POST"], "AllowedOrigins": ["https://dev.counterpromo.com"]}
    ]
    aws.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})
    dlq = aws.sqs.create_queue(QueueName="counterpromo-kept-jobs-dlq")["QueueUrl"]
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = aws.sqs.create_queue(
        QueueName="counterpromo-kept-jobs",
        Attributes={
            "VisibilityTimeout": "300",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "9"}),
        },
    )["QueueUrl"]
    aws.ssm.put_parameter(
        Name="/counterpromo/kept/app/url", Value="https://dev.counterpromo.com", Type="String"
    )
    before = {
        "lifecycle": aws.s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        "cors": aws.s3.get_bucket_cors(Bucket=bucket)["CORSRules"],
        "queue": aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"],
        "app_url": aws.ssm.get_parameter(Name="/counterpromo/kept/app/url")["Parameter"],
    }

    env = provision("kept", endpoint_url=local_aws.endpoint, region="eu-west-2", clients=aws)

    after = {
        "lifecycle": aws.s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        "cors": aws.s3.get_bucket_cors(Bucket=bucket)["CORSRules"],
        "queue": aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"],
        "app_url": aws.ssm.get_parameter(Name="/counterpromo/kept/app/url")["Parameter"],
    }
    assert after == before
    assert env.app_url == "http://localhost:3000"
    assert env.parameters["/counterpromo/kept/app/url"] == "https://dev.counterpromo.com"
    differences = "\n".join(env.differences)
    assert f"bucket {bucket}: lifecycle rules ['operators-rule']" in differences
    assert f"bucket {bucket}: CORS differs" in differences
    assert "queue counterpromo-kept-jobs: VisibilityTimeout is 300" in differences
    assert "queue counterpromo-kept-jobs: RedrivePolicy" in differences
    assert "parameter /counterpromo/kept/app/url" in differences
    # What was missing was created: the other buckets, the parameters, the secrets.
    assert aws.s3.get_bucket_versioning(Bucket=env.assets_bucket)["Status"] == "Enabled"
    assert "/counterpromo/kept/sqs/jobs_queue_url" in env.parameters
    # A second run changes nothing and reports the same differences.
    assert (
        provision(
            "kept", endpoint_url=local_aws.endpoint, region="eu-west-2", clients=aws
        ).differences
        == env.differences
    )
