"""``counterpromo config`` against moto's server, provisioned like AWS."""

from __future__ import annotations

import json

import pytest
from counterpromo_cli.testing import Cli
from counterpromo_storage.clients import secrets_client, ssm_client
from counterpromo_storage.config import DEPLOYED, required_names
from counterpromo_storage.provision import LOCAL_STRIPE_SECRET_KEY, ProvisionedEnv
from counterpromo_storage.testing import LocalAws
from counterpromo_testing import free_port


@pytest.fixture
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.mark.usefixtures("no_database_url")
def test_check_passes_on_a_provisioned_env(provisioned_aws: ProvisionedEnv) -> None:
    result = Cli().json("config", "check", "--env", "test", "--json")
    assert result["ok"] is True
    names = {c["name"]: c for c in result["checks"]}
    # every name the loader and a deployed environment need is checked, each once
    expected = [n.name for n in required_names("test", required=DEPLOYED)]
    assert [c["name"] for c in result["checks"]][: len(expected)] == expected
    assert names["/counterpromo/test/stripe/price_dealer_monthly"]["state"] == "present"
    assert names["/counterpromo/test/sqs/jobs_queue_url"]["value"] == provisioned_aws.jobs_queue_url
    secret = names["/counterpromo/test/stripe/secret_key"]
    assert secret["state"] == "present"
    assert secret["value"] == "sk_test_****"
    output = Cli().run("config", "check", "--env", "test").output
    assert LOCAL_STRIPE_SECRET_KEY not in output
    assert '"password"' not in output


@pytest.mark.usefixtures("no_database_url")
def test_check_names_what_is_missing_and_exits_1(
    provisioned_aws: ProvisionedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm_client(provisioned_aws.region, provisioned_aws.endpoint_url).delete_parameter(
        Name="/counterpromo/test/s3/assets_bucket"
    )
    secrets_client(provisioned_aws.region, provisioned_aws.endpoint_url).delete_secret(
        SecretId="/counterpromo/test/db/postgres", ForceDeleteWithoutRecovery=True
    )
    result = Cli().run("config", "check", "--env", "test")
    assert result.exit_code == 1
    assert "2 missing" in result.stdout
    checks = json.loads(Cli().run("config", "check", "--env", "test", "--json").stdout)
    assert checks["ok"] is False
    assert sorted(c["name"] for c in checks["checks"] if c["state"] == "missing") == [
        "/counterpromo/test/db/postgres",
        "/counterpromo/test/s3/assets_bucket",
    ]
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/x")
    overridden = Cli().run("config", "check", "--env", "test")
    assert "env DATABASE_URL" in overridden.stdout
    assert "1 missing" in overridden.stdout


@pytest.mark.usefixtures("no_database_url")
def test_show_masks_secrets(provisioned_aws: ProvisionedEnv) -> None:
    shown = Cli().json("config", "show", "--env", "test", "--json")
    assert shown["jobs_dlq_url"] == provisioned_aws.jobs_dlq_url
    assert shown["stripe_secret_key"] == "sk_test_****"
    assert (
        shown["database_url"] == "postgresql+psycopg://counterpromo:***@127.0.0.1:5432/counterpromo"
    )
    assert shown["price_map"][provisioned_aws.plan_prices["starter"]] == "starter"


def test_unreachable_aws_is_one_line(local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    line = Cli().error_line("config", "check", "--env", "test")
    assert "cannot reach AWS" in line


def test_missing_or_bad_env_name_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTERPROMO_ENV", raising=False)
    assert "--env" in Cli().error_line("config", "check")
    assert "invalid environment name" in Cli().error_line("config", "show", "--env", "Prod!")
