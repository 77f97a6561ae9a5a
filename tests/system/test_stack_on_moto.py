"""Issue 13, item 4: the dev stack's template deployed into moto's CloudFormation over HTTP,
``counterpromo config check --env dev`` against what it created, then the API and a worker
on that environment (the embedded PostgreSQL standing in for RDS) rendering a promo."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3
import httpx
import pytest
from counterpromo_billing.testing import FakeStripe
from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_storage.clients import AwsClients, make_clients
from counterpromo_storage.config import DEPLOYED, required_names
from counterpromo_testing import EmbeddedPostgres, free_port

from harness import cloudformation as cfn
from harness.flows import create_promo, request_render, wait_for_job
from harness.services import ApiProcess, MotoServer, WorkerProcess, console_script
from harness.stack import DATABASE, LOCAL_AWS, _base_environ, _environ
from harness.tenants import create_tenant

ACCOUNT = "437064342167"  # dev's, as the stack names its buckets


@dataclass
class DeployedDev:
    template: dict[str, Any]
    stack: dict[str, Any]
    created: set[str]
    clients: AwsClients
    environ: dict[str, str]
    postgres: EmbeddedPostgres
    stripe: FakeStripe
    logs: Path


def _client(service: Literal["acm", "cloudformation", "ecs", "ecr"], endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_AWS["AWS_REGION"],
        aws_access_key_id=LOCAL_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def deployed() -> Iterator[DeployedDev]:
    workdir = Path(tempfile.mkdtemp(prefix="counterpromo-cfn-"))
    logs = workdir / "logs"
    logs.mkdir()
    template = cfn.synthesize(workdir / "cdk.out")
    moto = MotoServer(free_port(), env=_base_environ(), log_dir=logs).start()
    postgres = EmbeddedPostgres(workdir / "postgres", fast_unsafe=True)
    stripe = FakeStripe()
    try:
        endpoint = f"http://127.0.0.1:{moto.port}"
        with _environ(LOCAL_AWS):
            clients = make_clients(LOCAL_AWS["AWS_REGION"], endpoint)
        certificate = _client("acm", endpoint).request_certificate(
            DomainName="dev.counterpromo.com"
        )["CertificateArn"]
        cloudformation = _client("cloudformation", endpoint)
        # Synthesized without --certificate-arn: the certificate is a stack parameter.
        certificate_parameter = next(
            key for key in template["Parameters"] if key.startswith("ServicesCertificateArn")
        )
        stack = cfn.deploy(
            clients,
            cloudformation,
            cfn.for_moto(template, clients, ACCOUNT),
            {
                certificate_parameter: certificate,
                "S3PrefixListId": "pl-7ca54015",
                "PriceProMonthly": "price_pro_monthly_dev",
                "PriceDealerMonthly": "price_dealer_monthly_dev",
            },
        )
        stripe.start()
        postgres.start()
        postgres.create_database(DATABASE)
        environ = _base_environ() | {
            "COUNTERPROMO_ENV": "dev",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": LOCAL_AWS["AWS_REGION"],
            "AWS_DEFAULT_REGION": LOCAL_AWS["AWS_REGION"],
        }
        yield DeployedDev(
            template,
            stack,
            cfn.created_types(cloudformation),
            clients,
            environ,
            postgres,
            stripe,
            logs,
        )
    finally:
        try:
            stripe.stop()
            postgres.stop("immediate")
        finally:
            moto.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def test_moto_creates_every_type_but_the_ones_named(deployed: DeployedDev) -> None:
    assert deployed.stack["StackStatus"] == "CREATE_COMPLETE", deployed.stack
    in_template = {r["Type"] for r in deployed.template["Resources"].values()}
    assert in_template - deployed.created == cfn.MOTO_CANNOT_CREATE
    # What moto skips is in the template as the stack declares it (the infra member's tests
    # assert the properties): the application's secrets under their names, retained.
    secrets = {
        r["Properties"]["Name"]: r
        for r in deployed.template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::Secret"
    }
    assert set(secrets) == {
        "/counterpromo/dev/db/postgres",
        "/counterpromo/dev/stripe/secret_key",
        "/counterpromo/dev/stripe/webhook_secret",
    }
    assert all(r["DeletionPolicy"] == "Retain" for r in secrets.values())


def test_the_deploy_names_release_sh_reads_name_what_the_stack_created(
    deployed: DeployedDev,
) -> None:
    ssm = deployed.clients.ssm
    deploy: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path="/counterpromo/dev/deploy/", Recursive=True
    ):
        deploy |= {p["Name"].rsplit("/", 1)[1]: p["Value"] for p in page["Parameters"]}
    endpoint = deployed.environ["AWS_ENDPOINT_URL"]
    ecs = _client("ecs", endpoint)
    services = ecs.describe_services(
        cluster=deploy["cluster"], services=[deploy["api_service"], deploy["worker_service"]]
    )
    assert [s["serviceName"] for s in services["services"]] == [
        "counterpromo-dev-svc-api",
        "counterpromo-dev-svc-worker",
    ]
    assert all(s["desiredCount"] == 0 for s in services["services"])  # ServicesRunning=false
    repositories = _client("ecr", endpoint).describe_repositories()["repositories"]
    uris = {r["repositoryUri"].rsplit("/", 1)[1] for r in repositories}
    for key in ("api_repository_uri", "worker_repository_uri"):
        assert deploy[key].rsplit("/", 1)[1] in uris


def _config_check(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("counterpromo"), "config", "check", "--env", "dev", "--json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_config_check_finds_every_parameter_and_secret(deployed: DeployedDev) -> None:
    result = _config_check(deployed.environ)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    states = {c["name"]: c["state"] for c in report["checks"]}
    for required in required_names("dev", required=DEPLOYED):
        assert states[required.name] == "present", required.name
    assert report["ok"] is True


def test_api_and_worker_render_a_promo_on_the_deployed_environment(
    deployed: DeployedDev,
) -> None:
    # The operator's step after the first deploy: the real Stripe values.
    sm = deployed.clients.secretsmanager
    sm.put_secret_value(
        SecretId="/counterpromo/dev/stripe/secret_key", SecretString=deployed.stripe.secret_key
    )
    sm.put_secret_value(
        SecretId="/counterpromo/dev/stripe/webhook_secret",
        SecretString=deployed.stripe.webhook_secret,
    )
    database_url = deployed.postgres.url(DATABASE)
    # db/host names RDS's endpoint; the embedded PostgreSQL stands in for it.
    environ = deployed.environ | {
        "DATABASE_URL": database_url,
        "STRIPE_API_BASE": deployed.stripe.base_url,
    }
    migrate = subprocess.run(
        [console_script("counterpromo"), "db", "upgrade"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    api = ApiProcess("api", free_port(), env=environ, log_dir=deployed.logs)
    worker = WorkerProcess("worker", env=environ, log_dir=deployed.logs)
    engine = create_db_engine(database_url)
    try:
        api.start()
        worker.start()
        tenant = create_tenant(session_factory(engine), plan="dealer")
        with httpx.Client(base_url=api.url, timeout=30) as client:
            promo_id = create_promo(client, tenant, items=4)
            job = wait_for_job(client, tenant, request_render(client, tenant, promo_id))
            assert job["status"] == "succeeded", (job, worker.process.log_text()[-4000:])
            assets = client.get(f"/v1/promos/{promo_id}/assets", headers=tenant.headers)
            assert sorted(a["kind"] for a in assets.json()) == ["pdf", "png"]
        bucket = "counterpromo-dev-assets-437064342167"
        stored = deployed.clients.s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
        exports = deployed.clients.s3.list_objects_v2(
            Bucket="counterpromo-dev-exports-437064342167"
        ).get("KeyCount", 0)
        assert stored + exports >= 2
    finally:
        worker.stop()
        api.stop()
        engine.dispose()
