"""The config loader reads a provisioned environment; env vars override; secrets stay hidden."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import boto3
import pytest
from counterpromo_storage.config import (
    DEPLOYED,
    REQUIRED,
    ConfigLoader,
    InvalidConfiguration,
    MissingConfiguration,
    RequiredName,
    load_config,
    required_names,
)
from counterpromo_storage.provision import (
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    STARTER_PRICE_ID,
    DatabaseSecret,
    ProvisionedEnv,
    ProvisionValues,
    provision,
)


def test_reads_a_provisioned_environment(provisioned_aws: ProvisionedEnv) -> None:
    config = load_config(environ=provisioned_aws.environ())
    assert config.env == "test"
    assert config.jobs_queue_url == provisioned_aws.jobs_queue_url
    assert config.jobs_dlq_url == provisioned_aws.jobs_dlq_url
    assert config.uploads_bucket == provisioned_aws.uploads_bucket
    assert config.assets_bucket == provisioned_aws.assets_bucket
    assert config.exports_bucket == provisioned_aws.exports_bucket
    assert config.app_url == provisioned_aws.app_url
    assert config.aws_endpoint_url == provisioned_aws.endpoint_url
    assert config.database_url.get_secret_value() == (
        "postgresql+psycopg://counterpromo:counterpromo@127.0.0.1:5432/counterpromo"
    )
    assert config.stripe_secret_key is not None
    assert config.stripe_secret_key.get_secret_value() == LOCAL_STRIPE_SECRET_KEY
    assert [s.get_secret_value() for s in config.stripe_webhook_secrets] == [
        LOCAL_STRIPE_WEBHOOK_SECRET
    ]
    assert config.plan_prices["starter"] == STARTER_PRICE_ID
    assert config.price_map[STARTER_PRICE_ID] == "starter"
    assert config.price_map["price_counterpromo_pro_monthly"] == "pro"


def test_fixture_sets_the_environment_for_in_process_loading(
    provisioned_aws: ProvisionedEnv,
) -> None:
    assert load_config().jobs_queue_url == provisioned_aws.jobs_queue_url


def test_environment_variables_override(provisioned_aws: ProvisionedEnv) -> None:
    environ = provisioned_aws.environ() | {
        "DATABASE_URL": "postgresql+psycopg://u:p@db.example:5433/other",
        "JOBS_QUEUE_URL": "http://queue.example/q",
        "UPLOADS_BUCKET": "my-uploads",
        "APP_URL": "https://app.example",
        "STRIPE_SECRET_KEY": "sk_test_override",
        "STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
        "STRIPE_API_BASE": "http://127.0.0.1:12111",
    }
    config = load_config(environ=environ)
    assert config.database_url.get_secret_value() == environ["DATABASE_URL"]
    assert config.jobs_queue_url == "http://queue.example/q"
    assert config.jobs_dlq_url == provisioned_aws.jobs_dlq_url  # not overridden
    assert config.uploads_bucket == "my-uploads"
    assert config.app_url == "https://app.example"
    assert config.stripe_secret_key is not None
    assert config.stripe_secret_key.get_secret_value() == "sk_test_override"
    assert [s.get_secret_value() for s in config.stripe_webhook_secrets] == [
        "whsec_new",
        "whsec_old",
    ]
    assert config.stripe_api_base == "http://127.0.0.1:12111"


def test_database_secret_becomes_a_url_with_escaped_credentials(aws_endpoint: str) -> None:
    database = DatabaseSecret(
        username="app user", password="p@ss:w/rd", host="db.internal", port=6543, dbname="cp"
    )
    env = provision("test", endpoint_url=aws_endpoint, values=ProvisionValues(database=database))
    config = load_config(environ=env.environ())
    assert config.database_url.get_secret_value() == (
        "postgresql+psycopg://app%20user:p%40ss%3Aw%2Frd@db.internal:6543/cp"
    )


def test_missing_values_are_all_named_in_one_error(aws_endpoint: str) -> None:
    environ = {"COUNTERPROMO_ENV": "empty", "AWS_ENDPOINT_URL": aws_endpoint}
    with pytest.raises(MissingConfiguration) as caught:
        load_config(environ=environ, required=["stripe_secret_key"])
    error = caught.value
    assert error.missing == [
        "database_url",
        "jobs_queue_url",
        "jobs_dlq_url",
        "uploads_bucket",
        "assets_bucket",
        "exports_bucket",
        "app_url",
        "stripe_secret_key",
    ]
    message = str(error)
    assert "DATABASE_URL" in message
    assert "/counterpromo/empty/sqs/jobs_queue_url" in message
    assert "/counterpromo/empty/stripe/secret_key" in message


def test_one_missing_value_names_itself(provisioned_aws: ProvisionedEnv) -> None:
    ssm = boto3.client(
        "ssm", endpoint_url=provisioned_aws.endpoint_url, region_name=provisioned_aws.region
    )
    ssm.delete_parameter(Name="/counterpromo/test/s3/exports_bucket")
    with pytest.raises(MissingConfiguration, match="exports_bucket") as caught:
        load_config(environ=provisioned_aws.environ())
    assert caught.value.missing == ["exports_bucket"]


def test_missing_environment_name_is_reported() -> None:
    with pytest.raises(MissingConfiguration, match="COUNTERPROMO_ENV"):
        load_config(environ={})


def test_unknown_required_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="stripe_key"):
        ConfigLoader("test", required=["stripe_key"])


def test_malformed_database_secret_is_reported_without_its_value(
    provisioned_aws: ProvisionedEnv,
) -> None:
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=provisioned_aws.endpoint_url,
        region_name=provisioned_aws.region,
    )
    secrets.put_secret_value(
        SecretId=provisioned_aws.secret_ids["database"],
        SecretString=json.dumps({"username": "u", "password": "hunter2-secret"}),
    )
    with pytest.raises(InvalidConfiguration, match="lacks host") as caught:
        load_config(environ=provisioned_aws.environ())
    assert "hunter2-secret" not in str(caught.value)


def test_repr_and_logging_show_no_secret(
    provisioned_aws: ProvisionedEnv, caplog: pytest.LogCaptureFixture
) -> None:
    environ = provisioned_aws.environ() | {
        "DATABASE_URL": "postgresql+psycopg://u:topsecretpw@db/x",
        "STRIPE_WEBHOOK_SECRET": "whsec_rotating_a,whsec_rotating_b",
    }
    config = load_config(environ=environ)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("config: %s %r", config, config)
    shown = repr(config) + str(config) + caplog.text + str(config.model_dump())
    for secret in ("topsecretpw", "whsec_rotating", LOCAL_STRIPE_SECRET_KEY):
        assert secret not in shown
    assert "**********" in repr(config)


def test_loader_caches_until_refresh(provisioned_aws: ProvisionedEnv) -> None:
    ssm = boto3.client(
        "ssm", endpoint_url=provisioned_aws.endpoint_url, region_name=provisioned_aws.region
    )
    loader = ConfigLoader(environ=provisioned_aws.environ())
    first = loader.load()
    ssm.put_parameter(
        Name="/counterpromo/test/app/url", Value="https://new.example", Overwrite=True
    )
    assert loader.load() is first
    assert loader.refresh().app_url == "https://new.example"
    assert loader.load().app_url == "https://new.example"


def test_loader_refreshes_after_max_age(provisioned_aws: ProvisionedEnv) -> None:
    now = [0.0]
    loader = ConfigLoader(environ=provisioned_aws.environ(), max_age=60, clock=lambda: now[0])
    first = loader.load()
    now[0] = 30
    assert loader.load() is first
    now[0] = 61
    assert loader.load() is not first


def test_a_subprocess_reads_the_environment(provisioned_aws: ProvisionedEnv) -> None:
    code = (
        "from counterpromo_storage.config import load_config; print(load_config().uploads_bucket)"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COUNTERPROMO_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environ | provisioned_aws.environ(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == provisioned_aws.uploads_bucket


def test_required_names_are_the_ssm_names_of_the_required_fields() -> None:
    assert required_names("dev") == [
        RequiredName("secret", "/counterpromo/dev/db/postgres", "database_url"),
        RequiredName("parameter", "/counterpromo/dev/sqs/jobs_queue_url", "jobs_queue_url"),
        RequiredName("parameter", "/counterpromo/dev/sqs/jobs_dlq_url", "jobs_dlq_url"),
        RequiredName("parameter", "/counterpromo/dev/s3/uploads_bucket", "uploads_bucket"),
        RequiredName("parameter", "/counterpromo/dev/s3/assets_bucket", "assets_bucket"),
        RequiredName("parameter", "/counterpromo/dev/s3/exports_bucket", "exports_bucket"),
        RequiredName("parameter", "/counterpromo/dev/app/url", "app_url"),
    ]
    deployed = required_names("dev", required=DEPLOYED)[len(REQUIRED) :]
    assert [(n.kind, n.name) for n in deployed] == [
        ("secret", "/counterpromo/dev/stripe/secret_key"),
        ("secret", "/counterpromo/dev/stripe/webhook_secret"),
        ("parameter", "/counterpromo/dev/stripe/price_starter_monthly"),
        ("parameter", "/counterpromo/dev/stripe/price_pro_monthly"),
        ("parameter", "/counterpromo/dev/stripe/price_dealer_monthly"),
    ]
    with pytest.raises(ValueError, match="stripe_key"):
        required_names("dev", required=["stripe_key"])
    with pytest.raises(ValueError, match="invalid environment name"):
        required_names("Dev!")


def test_provision_writes_every_required_name(provisioned_aws: ProvisionedEnv) -> None:
    endpoint, region = provisioned_aws.endpoint_url, provisioned_aws.region
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region)
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region)
    for name in required_names("test", required=DEPLOYED):
        if name.kind == "parameter":
            assert ssm.get_parameter(Name=name.name)["Parameter"]["Value"], name
        else:
            assert secrets.get_secret_value(SecretId=name.name)["SecretString"], name


def test_load_config_misses_each_required_name_when_it_is_absent(
    provisioned_aws: ProvisionedEnv,
) -> None:
    """The names listed are the ones the loader reads: take one away, its field is missing."""
    endpoint, region = provisioned_aws.endpoint_url, provisioned_aws.region
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region)
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region)
    required = ("stripe_secret_key", "stripe_webhook_secrets")
    names = required_names("test", required=required)
    assert len(names) == len(REQUIRED) + len(required)
    for name in names:
        if name.kind == "parameter":
            value = ssm.get_parameter(Name=name.name)["Parameter"]["Value"]
            ssm.delete_parameter(Name=name.name)
        else:
            value = secrets.get_secret_value(SecretId=name.name)["SecretString"]
            secrets.delete_secret(SecretId=name.name, ForceDeleteWithoutRecovery=True)
        with pytest.raises(MissingConfiguration) as caught:
            load_config(environ=provisioned_aws.environ(), required=required)
        assert caught.value.missing == [name.field]
        assert name.name in str(caught.value)
        if name.kind == "parameter":
            ssm.put_parameter(Name=name.name, Value=value, Type="String")
        else:
            secrets.create_secret(Name=name.name, SecretString=value)
    load_config(environ=provisioned_aws.environ(), required=required)
