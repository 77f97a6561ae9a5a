"""The synthesized stacks: names, listener rules, retain policies, buckets, queues,
parameters, services, scaling, roles, trust, alarms, and dev/prod separation."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from counterpromo_infra.app import build
from counterpromo_infra.settings import EnvSettings
from counterpromo_infra.testing import only, resources, template_of

STATEFUL = (
    "AWS::RDS::DBInstance",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
    "AWS::ECR::Repository",
    "AWS::Logs::LogGroup",
)
NAMED = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def _names(template: Template, kind: str, key: str) -> set[str]:
    return {
        r["Properties"][key]
        for r in resources(template, kind).values()
        if isinstance(r["Properties"].get(key), str)
    }


def test_names_are_the_existing_environments(dev: Template) -> None:
    assert _names(dev, "AWS::ECS::Cluster", "ClusterName") == {"counterpromo-dev-cluster"}
    assert _names(dev, "AWS::ECS::Service", "ServiceName") == {
        "counterpromo-dev-svc-api",
        "counterpromo-dev-svc-worker",
    }
    assert _names(dev, "AWS::ECS::TaskDefinition", "Family") == {
        "counterpromo-dev-td-api",
        "counterpromo-dev-td-worker",
    }
    assert _names(dev, "AWS::ElasticLoadBalancingV2::TargetGroup", "Name") == {
        "counterpromo-dev-tg-api",
        "counterpromo-dev-tg-web",
    }
    assert _names(dev, "AWS::ElasticLoadBalancingV2::LoadBalancer", "Name") == {
        "counterpromo-dev-alb"
    }
    assert _names(dev, "AWS::IAM::Role", "RoleName") == {
        "counterpromo-dev-ecs-task-app",
        "counterpromo-dev-ecs-task-worker",
        "counterpromo-dev-ecs-exec-default",
        "counterpromo-dev-github-deployer",
    }
    assert _names(dev, "AWS::RDS::DBInstance", "DBInstanceIdentifier") == {
        "counterpromo-dev-postgres"
    }
    assert {
        "counterpromo-dev-uploads-437064342167",
        "counterpromo-dev-assets-437064342167",
        "counterpromo-dev-exports-437064342167",
    } <= _names(dev, "AWS::S3::Bucket", "BucketName")
    assert _names(dev, "AWS::SQS::Queue", "QueueName") == {
        "counterpromo-dev-jobs",
        "counterpromo-dev-jobs-dlq",
        "counterpromo-devlocal-jobs",
        "counterpromo-devlocal-jobs-dlq",
    }
    assert _names(dev, "AWS::Logs::LogGroup", "LogGroupName") >= {"/ecs/counterpromo-dev"}
    assert _names(dev, "AWS::SecretsManager::Secret", "Name") == {
        "/counterpromo/dev/db/postgres",
        "/counterpromo/dev/stripe/secret_key",
        "/counterpromo/dev/stripe/webhook_secret",
    }
    dev.has_resource_properties(
        "AWS::EC2::VPC",
        {"Tags": Match.array_with([{"Key": "Name", "Value": "counterpromo-dev-vpc"}])},
    )


@pytest.mark.parametrize("kind", STATEFUL)
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_stateful_resources_are_retained(env: str, kind: str) -> None:
    found = resources(template_of(env), kind)
    assert found, kind
    for logical_id, resource in found.items():
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_prod_shares_no_stateful_resource_with_dev(dev: Template, prod: Template) -> None:
    for kind, key in NAMED.items():
        dev_names, prod_names = _names(dev, kind, key), _names(prod, kind, key)
        assert prod_names, kind
        assert not dev_names & prod_names, kind
    assert not any("devlocal" in q for q in _names(prod, "AWS::SQS::Queue", "QueueName"))


def test_database_is_private_encrypted_backed_up(dev: Template, prod: Template) -> None:
    for template, protected in ((dev, False), (prod, True)):
        template.has_resource_properties(
            "AWS::RDS::DBInstance",
            {
                "Engine": "postgres",
                "Port": "5432",
                "PubliclyAccessible": False,
                "StorageEncrypted": True,
                "BackupRetentionPeriod": Match.any_value(),
                "DeletionProtection": protected,
            },
        )
    prod.has_resource_properties("AWS::RDS::DBInstance", {"MultiAZ": True})


def _listeners(template: Template) -> dict[int, dict[str, Any]]:
    return {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


def _target_group_name(template: Template, reference: dict[str, str]) -> str:
    groups = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    return str(groups[reference["Ref"]]["Properties"]["Name"])


def test_listeners_redirect_80_and_route_the_api_paths(dev: Template) -> None:
    listeners = _listeners(dev)
    assert set(listeners) == {80, 443}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Port"] == "443"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"][0]["CertificateArn"].startswith("arn:aws:acm:")
    default = https["DefaultActions"][0]
    assert _target_group_name(dev, {"Ref": default["TargetGroupArn"]["Ref"]}) == (
        "counterpromo-dev-tg-web"
    )
    rules = sorted(
        (
            r["Properties"]
            for r in resources(dev, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
        ),
        key=lambda rule: rule["Priority"],
    )
    routed = [
        (
            rule["Priority"],
            rule["Conditions"][0]["PathPatternConfig"]["Values"],
            _target_group_name(dev, rule["Actions"][0]["TargetGroupArn"]),
        )
        for rule in rules
    ]
    assert routed == [
        (10, ["/api/*"], "counterpromo-dev-tg-api"),
        (20, ["/webhooks/*"], "counterpromo-dev-tg-api"),
    ]
    dev.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Name": "counterpromo-dev-tg-api",
            "TargetType": "ip",
            "Port": 3000,
            "HealthCheckPath": "/health",
        },
    )


def test_certificate_is_a_parameter_when_not_given() -> None:
    template = Template.from_stack(build(EnvSettings(env="dev", account="123456789012"), nag=False))
    assert "ServicesCertificateArn" in "".join(template.to_json()["Parameters"])


def _statements(template: Template, role_name: str) -> list[dict[str, Any]]:
    roles = resources(template, "AWS::IAM::Role")
    role_id = next(k for k, r in roles.items() if r["Properties"].get("RoleName") == role_name)
    out: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        actions |= {value} if isinstance(value, str) else set(value)
    return actions


def test_worker_cannot_read_stripe_secrets(dev: Template) -> None:
    worker = _statements(dev, "counterpromo-dev-ecs-task-worker")
    assert not any(a.startswith("secretsmanager:") for a in _actions(worker))
    api = _statements(dev, "counterpromo-dev-ecs-task-app")
    secret_reads = [s for s in api if "secretsmanager:GetSecretValue" in _actions([s])]
    assert secret_reads, "the API reads the Stripe secrets"
    text = json.dumps(secret_reads)
    assert "stripe" in text.lower()
    assert "DatabaseSecret" not in text
    worker_task = only(dev, "AWS::ECS::TaskDefinition", lambda p: p["Family"].endswith("worker"))
    injected = {s["Name"] for s in worker_task["Properties"]["ContainerDefinitions"][0]["Secrets"]}
    assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} & injected


@pytest.mark.parametrize(
    ("env", "subject"),
    [
        ("dev", "repo:js-cox-creator/counterpromo:ref:refs/heads/main"),
        ("prod", "repo:js-cox-creator/counterpromo:environment:production"),
    ],
)
def test_deployer_trusts_exactly_one_github_subject(env: str, subject: str) -> None:
    template = template_of(env)
    role = only(
        template, "AWS::IAM::Role", lambda p: p.get("RoleName", "").endswith("github-deployer")
    )
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subject,
        }
    }
    template.has_resource_properties(
        "AWS::IAM::OIDCProvider", {"Url": "https://token.actions.githubusercontent.com"}
    )


def test_buckets_are_private_versioned_encrypted_tls_only_and_lifecycled(dev: Template) -> None:
    buckets = resources(dev, "AWS::S3::Bucket")
    app_buckets = {
        k: b for k, b in buckets.items() if "access-logs" not in b["Properties"]["BucketName"]
    }
    assert len(app_buckets) == 3
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values()), logical_id
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 1
            for r in rules
        ), logical_id
    for logical_id, bucket in app_buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules), logical_id
    policies = resources(dev, "AWS::S3::BucketPolicy")
    tls_denied = {
        p["Properties"]["Bucket"]["Ref"]
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and s["Principal"] == {"AWS": "*"}
    }
    assert tls_denied == set(buckets)
    uploads = only(dev, "AWS::S3::Bucket", lambda p: "uploads" in p["BucketName"])
    (cors,) = uploads["Properties"]["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == ["https://dev.counterpromo.com"]


def test_jobs_queue_redrives_to_its_dlq(dev: Template) -> None:
    queues = resources(dev, "AWS::SQS::Queue")
    by_name = {q["Properties"]["QueueName"]: (k, q["Properties"]) for k, q in queues.items()}
    for env in ("dev", "devlocal"):
        _, main = by_name[f"counterpromo-{env}-jobs"]
        dlq_id, _ = by_name[f"counterpromo-{env}-jobs-dlq"]
        assert main["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": 5,
        }
        assert main["VisibilityTimeout"] == 60


# Every parameter the application reads (counterpromo_storage.naming / config) and the ones
# the task definitions inject.
APP_PARAMETERS = {
    "sqs/jobs_queue_url",
    "sqs/jobs_dlq_url",
    "s3/uploads_bucket",
    "s3/assets_bucket",
    "s3/exports_bucket",
    "app/url",
    "api/public_url",
    "stripe/price_starter_monthly",
    "stripe/price_pro_monthly",
    "stripe/price_dealer_monthly",
    "db/host",
    "db/port",
    "db/name",
}


def _parameter_names(template: Template) -> set[str]:
    names: set[str] = set()
    for parameter in resources(template, "AWS::SSM::Parameter").values():
        name = parameter["Properties"]["Name"]
        names.add(name if isinstance(name, str) else json.dumps(name))
    return names


def test_every_parameter_the_application_reads_exists(dev: Template) -> None:
    names = _parameter_names(dev)
    assert {f"/counterpromo/dev/{p}" for p in APP_PARAMETERS} <= names
    assert "/counterpromo/devlocal/sqs/jobs_queue_url" in names
    price_maps = [n for n in names if "billing/price_map/" in n]
    assert len(price_maps) == 3
    tasks = resources(dev, "AWS::ECS::TaskDefinition").values()
    assert len(tasks) == 2
    for task in tasks:
        container = task["Properties"]["ContainerDefinitions"][0]
        injected = {s["Name"] for s in container["Secrets"]}
        assert {
            "JOBS_QUEUE_URL",
            "JOBS_DLQ_URL",
            "UPLOADS_BUCKET",
            "ASSETS_BUCKET",
            "EXPORTS_BUCKET",
            "APP_URL",
            "PGHOST",
            "PGPASSWORD",
        } <= injected


def _covers(resource: object, arn: str) -> bool:
    return isinstance(resource, str) and fnmatch.fnmatchcase(arn, resource)


def test_api_public_url_is_the_public_origin_input_and_the_api_reads_it(dev: Template) -> None:
    origin = dev.to_json()["Parameters"]["PublicOrigin"]
    assert origin["Default"] == "https://dev.counterpromo.com"
    pattern = re.compile(origin["AllowedPattern"])
    assert pattern.match("https://app.example.com")
    assert not pattern.match("https://app.example.com/api")  # an origin, never a path
    assert not pattern.match("https://app.example.com/")
    dev.has_resource_properties(
        "AWS::SSM::Parameter",
        {"Name": "/counterpromo/dev/api/public_url", "Value": {"Ref": "PublicOrigin"}},
    )
    arn = "arn:aws:ssm:eu-west-2:437064342167:parameter/counterpromo/dev/api/public_url"
    reads = [
        s
        for s in _statements(dev, "counterpromo-dev-ecs-task-app")
        if "ssm:GetParametersByPath" in _actions([s]) and s["Effect"] == "Allow"
    ]
    assert any(_covers(r, arn) for s in reads for r in s["Resource"])
    other_env = arn.replace("/dev/", "/prod/")
    assert not any(_covers(r, other_env) for s in reads for r in s["Resource"])


def test_deploy_names_are_published_for_release_sh(dev: Template) -> None:
    names = _parameter_names(dev)
    for key in (
        "cluster",
        "api_service",
        "worker_service",
        "api_family",
        "worker_family",
        "api_repository_uri",
        "worker_repository_uri",
        "private_subnet_ids",
        "migrate_security_group_id",
    ):
        assert f"/counterpromo/dev/deploy/{key}" in names


def _service(template: Template, suffix: str) -> dict[str, Any]:
    return only(template, "AWS::ECS::Service", lambda p: p["ServiceName"].endswith(suffix))


def test_services_roll_back_and_stop_gracefully(dev: Template) -> None:
    for suffix in ("svc-api", "svc-worker"):
        config = _service(dev, suffix)["Properties"]["DeploymentConfiguration"]
        assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    api = only(dev, "AWS::ECS::TaskDefinition", lambda p: p["Family"].endswith("td-api"))
    container = api["Properties"]["ContainerDefinitions"][0]
    assert container["StopTimeout"] >= 25 + 5  # uvicorn's graceful shutdown + margin
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["FORWARDED_ALLOW_IPS"] == "10.10.0.0/16"
    assert environment["COUNTERPROMO_API_PREFIX"] == "/api"
    prod_api = only(
        template_of("prod"), "AWS::ECS::TaskDefinition", lambda p: p["Family"].endswith("td-api")
    )
    prod_env = prod_api["Properties"]["ContainerDefinitions"][0]["Environment"]
    assert {"Name": "FORWARDED_ALLOW_IPS", "Value": "10.20.0.0/16"} in prod_env


@pytest.mark.parametrize(
    ("env", "api", "worker"), [("dev", (1, 2), (1, 2)), ("prod", (2, 6), (1, 8))]
)
def test_scaling_floors_ceilings_and_policies(
    env: str, api: tuple[int, int], worker: tuple[int, int]
) -> None:
    template = template_of(env)
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    limits = sorted(
        (t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets
    )
    assert limits == sorted([api, worker])
    policies = [
        p["Properties"]
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]
    configs = [p["TargetTrackingScalingPolicyConfiguration"] for p in policies]
    requests = [c for c in configs if "PredefinedMetricSpecification" in c]
    assert requests[0]["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ALBRequestCountPerTarget"
    )
    backlog = [c for c in configs if "CustomizedMetricSpecification" in c]
    metrics = backlog[0]["CustomizedMetricSpecification"]["Metrics"]
    assert [m["Id"] for m in metrics] == ["visible", "running", "backlog_per_task"]
    assert metrics[2]["Expression"] == "visible / IF(running > 0, running, 1)"
    assert _service(template, "svc-api")["Properties"]["DesiredCount"] == api[0]


def test_services_running_false_holds_both_services_at_zero_tasks() -> None:
    template = template_of("dev", services_running=False)
    for suffix in ("svc-api", "svc-worker"):
        assert _service(template, suffix)["Properties"]["DesiredCount"] == 0
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


ALARMS = {
    "counterpromo-dev-alb5xx",
    "counterpromo-dev-api-unhealthy-hosts",
    "counterpromo-dev-api-tasks-missing",
    "counterpromo-dev-worker-tasks-missing",
    "counterpromo-dev-database-free-storage-low",
    "counterpromo-dev-dead-letters-present",
    "counterpromo-dev-jobs-failed",
}


def test_alarms_go_to_the_alerts_topic(dev: Template) -> None:
    alarms = resources(dev, "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["AlarmName"] for a in alarms.values()} == ALARMS
    (topic_id,) = resources(dev, "AWS::SNS::Topic")
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    jobs_failed = only(
        dev, "AWS::CloudWatch::Alarm", lambda p: p["AlarmName"].endswith("jobs-failed")
    )
    assert jobs_failed["Properties"]["Namespace"] == "CounterPromo"
    assert jobs_failed["Properties"]["Dimensions"] == [{"Name": "Env", "Value": "dev"}]
    dlq = only(
        dev, "AWS::CloudWatch::Alarm", lambda p: p["AlarmName"].endswith("dead-letters-present")
    )
    assert dlq["Properties"]["Threshold"] == 0
    assert dlq["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


def test_ecr_repositories_are_immutable_and_scanned(dev: Template) -> None:
    assert _names(dev, "AWS::ECR::Repository", "RepositoryName") == {
        "counterpromo-dev-api",
        "counterpromo-dev-worker",
    }
    for repository in resources(dev, "AWS::ECR::Repository").values():
        assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
        assert repository["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_prod_deployer_may_pull_devs_images_across_accounts() -> None:
    prod = _statements(template_of("prod"), "counterpromo-prod-github-deployer")
    pull = next(s for s in prod if s.get("Sid") == "PullDevImages")
    assert pull["Resource"] == [
        "arn:aws:ecr:eu-west-2:437064342167:repository/counterpromo-dev-api",
        "arn:aws:ecr:eu-west-2:437064342167:repository/counterpromo-dev-worker",
    ]
    dev = Template.from_stack(
        build(
            EnvSettings(env="dev", account="437064342167", promote_account="210987654321"),
            nag=False,
        )
    )
    for repository in resources(dev, "AWS::ECR::Repository").values():
        (statement,) = repository["Properties"]["RepositoryPolicyText"]["Statement"]
        assert statement["Principal"] == {
            "AWS": "arn:aws:iam::210987654321:role/counterpromo-prod-github-deployer"
        }
    # In one account, no repository policy is needed.
    for repository in resources(template_of("dev"), "AWS::ECR::Repository").values():
        assert "RepositoryPolicyText" not in repository["Properties"]
