"""``counterpromo ops alarms`` against moto's server over HTTP."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from counterpromo_cli.commands import ops
from typer.testing import CliRunner

runner = CliRunner()
REGION = "eu-west-2"
EXPECTED = {
    "counterpromo-dev-dlq-depth",
    "counterpromo-dev-api-5xx-rate",
    "counterpromo-dev-job-failures",
    "counterpromo-dev-rds-free-storage",
    "counterpromo-dev-api-running-tasks",
    "counterpromo-dev-worker-running-tasks",
}


def client(service: str, endpoint: str) -> Any:
    # Any: test set-up only, for services the project installs no stubs for (sns, ec2, elbv2).
    session: Any = boto3.session.Session(region_name=REGION)
    return session.client(service, endpoint_url=endpoint)


@pytest.fixture
def dev_environment(aws_endpoint: str) -> str:
    """The alerts topic (and its SSM parameter) and the ALB that dev has in AWS."""
    topic = client("sns", aws_endpoint).create_topic(Name="counterpromo-dev-alerts")["TopicArn"]
    client("ssm", aws_endpoint).put_parameter(
        Name="/counterpromo/dev/alerts/sns_topic_arn", Value=topic, Type="String"
    )
    subnets = client("ec2", aws_endpoint).describe_subnets()["Subnets"][:2]
    client("elbv2", aws_endpoint).create_load_balancer(
        Name="counterpromo-dev-alb", Subnets=[s["SubnetId"] for s in subnets]
    )
    return str(topic)


def alarms(endpoint: str) -> dict[str, dict[str, Any]]:
    found = client("cloudwatch", endpoint).describe_alarms(AlarmNamePrefix="counterpromo-dev-")
    return {alarm["AlarmName"]: alarm for alarm in found["MetricAlarms"]}


def apply(endpoint: str, *extra: str) -> Any:
    return runner.invoke(
        ops.app, ["alarms", "apply", "--env", "dev", "--endpoint-url", endpoint, *extra]
    )


def test_apply_creates_every_alarm_notifying_the_topic(
    aws_endpoint: str, dev_environment: str
) -> None:
    result = apply(aws_endpoint, "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["alarms"]) == EXPECTED

    created = alarms(aws_endpoint)
    assert set(created) == EXPECTED
    for alarm in created.values():
        assert alarm["AlarmActions"] == [dev_environment]
        assert alarm["OKActions"] == [dev_environment]

    dlq = created["counterpromo-dev-dlq-depth"]
    assert dlq["Namespace"] == "AWS/SQS"
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "counterpromo-dev-jobs-dlq"}]
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanThreshold", 0.0)

    rds = created["counterpromo-dev-rds-free-storage"]
    assert rds["Dimensions"] == [
        {"Name": "DBInstanceIdentifier", "Value": "counterpromo-dev-postgres"}
    ]
    assert rds["ComparisonOperator"] == "LessThanThreshold"

    failures = created["counterpromo-dev-job-failures"]
    assert (failures["Namespace"], failures["MetricName"]) == ("CounterPromo", "JobsFailed")

    http = created["counterpromo-dev-api-5xx-rate"]
    queries = {q["Id"]: q for q in http["Metrics"]}
    load_balancer = queries["target_5xx"]["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
    assert load_balancer.startswith("app/counterpromo-dev-alb/")
    assert queries["rate"]["ReturnData"] is True

    tasks = created["counterpromo-dev-worker-running-tasks"]
    queries = {q["Id"]: q for q in tasks["Metrics"]}
    assert queries["missing"]["Expression"] == "desired - running"
    assert {"Name": "ServiceName", "Value": "counterpromo-dev-worker"} in queries["running"][
        "MetricStat"
    ]["Metric"]["Dimensions"]


def test_apply_twice_changes_nothing(aws_endpoint: str, dev_environment: str) -> None:
    assert apply(aws_endpoint).exit_code == 0
    first = alarms(aws_endpoint)
    second_run = apply(aws_endpoint)
    assert second_run.exit_code == 0, second_run.output
    second = alarms(aws_endpoint)
    assert set(second) == set(first) == EXPECTED
    ignore = {"AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp"}
    for name, alarm in second.items():
        assert {k: v for k, v in alarm.items() if k not in ignore} == {
            k: v for k, v in first[name].items() if k not in ignore
        }


def test_missing_topic_parameter_is_one_line_and_exit_1(aws_endpoint: str) -> None:
    result = apply(aws_endpoint)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "/counterpromo/dev/alerts/sns_topic_arn is missing" in lines[0]
    assert "Traceback" not in result.output
    assert alarms(aws_endpoint) == {}


def test_missing_load_balancer_creates_nothing(aws_endpoint: str) -> None:
    topic = client("sns", aws_endpoint).create_topic(Name="alerts")["TopicArn"]
    client("ssm", aws_endpoint).put_parameter(
        Name="/counterpromo/dev/alerts/sns_topic_arn", Value=topic, Type="String"
    )
    result = apply(aws_endpoint)
    assert result.exit_code == 1
    assert "load balancer counterpromo-dev-alb not found" in result.output
    assert alarms(aws_endpoint) == {}


def test_list_shows_the_environments_alarms(aws_endpoint: str, dev_environment: str) -> None:
    empty = runner.invoke(
        ops.app, ["alarms", "list", "--env", "dev", "--endpoint-url", aws_endpoint]
    )
    assert empty.exit_code == 0
    assert "no alarms for dev" in empty.output

    assert apply(aws_endpoint).exit_code == 0
    listed = runner.invoke(
        ops.app, ["alarms", "list", "--env", "dev", "--endpoint-url", aws_endpoint, "--json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert {row["name"] for row in rows} == EXPECTED
    assert all(row["actions"] == [dev_environment] for row in rows)


def test_env_is_required(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTERPROMO_ENV", raising=False)
    result = runner.invoke(ops.app, ["alarms", "apply", "--endpoint-url", aws_endpoint])
    assert result.exit_code == 1
    assert "name the environment" in result.output
