"""The CloudWatch alarms of one environment, as code.

``apply_alarms`` creates or overwrites (``PutMetricAlarm`` is keyed by name, so applying
twice changes nothing) one alarm per risk the seed's monitoring names, every one
notifying the SNS topic whose ARN is in SSM ``/counterpromo/{env}/alerts/sns_topic_arn``:

- ``dlq-depth``: a message in ``counterpromo-{env}-jobs-dlq``;
- ``api-5xx-rate``: more than 5 % of the ALB's requests answered 5xx (target and ALB
  errors, from AWS/ApplicationELB on ``counterpromo-{env}-alb``) over 5 minutes;
- ``job-failures``: the worker's ``CounterPromo``/``JobsFailed`` metric (dimension
  ``Env``) above 5 in 5 minutes;
- ``rds-free-storage``: ``counterpromo-{env}-postgres`` below 2 GiB free;
- ``api-running-tasks`` / ``worker-running-tasks``: fewer running tasks than desired
  for 5 minutes (ECS Container Insights on ``counterpromo-{env}-cluster``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ssm import SSMClient

JOBS_NAMESPACE = "CounterPromo"
JOBS_FAILED_METRIC = "JobsFailed"
JOB_FAILURES_PER_5_MINUTES = 5
API_5XX_PERCENT = 5
API_5XX_MIN_REQUESTS = 20
RDS_MIN_FREE_BYTES = 2 * 1024**3
TOPIC_PARAMETER = "alerts/sns_topic_arn"


class OpsError(Exception):
    """Something the environment lacks; the message says what and where."""


@dataclass(frozen=True)
class Alarm:
    """One alarm: its name, what it means, and the rest of ``PutMetricAlarm``'s arguments."""

    name: str
    description: str
    definition: dict[str, Any]


def _metric(namespace: str, name: str, stat: str, dimensions: dict[str, str]) -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": namespace,
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        },
        "Period": 60 if namespace.startswith("ECS") else 300,
        "Stat": stat,
    }


def _running_below_desired(env: str, service: str) -> Alarm:
    dimensions = {
        "ClusterName": f"counterpromo-{env}-cluster",
        "ServiceName": f"counterpromo-{env}-{service}",
    }
    insights = "ECS/ContainerInsights"
    return Alarm(
        name=f"counterpromo-{env}-{service}-running-tasks",
        description=f"{service}: fewer running tasks than desired for 5 minutes",
        definition={
            "Metrics": [
                {
                    "Id": "running",
                    "MetricStat": _metric(insights, "RunningTaskCount", "Minimum", dimensions),
                    "ReturnData": False,
                },
                {
                    "Id": "desired",
                    "MetricStat": _metric(insights, "DesiredTaskCount", "Maximum", dimensions),
                    "ReturnData": False,
                },
                {
                    "Id": "missing",
                    "Expression": "desired - running",
                    "Label": "tasks missing",
                    "ReturnData": True,
                },
            ],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 5,
            "TreatMissingData": "missing",
        },
    )


def alarms_for(env: str, *, load_balancer: str) -> list[Alarm]:
    """Every alarm of ``env``; ``load_balancer`` is the ALB's CloudWatch dimension (app/name/id)."""
    alb = {"LoadBalancer": load_balancer}
    rate = (
        f"IF(requests >= {API_5XX_MIN_REQUESTS}, "
        "100 * (FILL(target_5xx, 0) + FILL(alb_5xx, 0)) / requests, 0)"
    )
    return [
        Alarm(
            name=f"counterpromo-{env}-dlq-depth",
            description=f"Jobs in counterpromo-{env}-jobs-dlq: see `counterpromo dlq`",
            definition={
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": f"counterpromo-{env}-jobs-dlq"}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        ),
        Alarm(
            name=f"counterpromo-{env}-api-5xx-rate",
            description=f"More than {API_5XX_PERCENT}% of API requests answered 5xx over 5 minutes",
            definition={
                "Metrics": [
                    {
                        "Id": "target_5xx",
                        "MetricStat": _metric(
                            "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", alb
                        ),
                        "ReturnData": False,
                    },
                    {
                        "Id": "alb_5xx",
                        "MetricStat": _metric(
                            "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", alb
                        ),
                        "ReturnData": False,
                    },
                    {
                        "Id": "requests",
                        "MetricStat": _metric("AWS/ApplicationELB", "RequestCount", "Sum", alb),
                        "ReturnData": False,
                    },
                    {"Id": "rate", "Expression": rate, "Label": "5xx %", "ReturnData": True},
                ],
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": API_5XX_PERCENT,
                "EvaluationPeriods": 1,
                "TreatMissingData": "notBreaching",
            },
        ),
        Alarm(
            name=f"counterpromo-{env}-job-failures",
            description=f"More than {JOB_FAILURES_PER_5_MINUTES} jobs failed in 5 minutes",
            definition={
                "Namespace": JOBS_NAMESPACE,
                "MetricName": JOBS_FAILED_METRIC,
                "Dimensions": [{"Name": "Env", "Value": env}],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": JOB_FAILURES_PER_5_MINUTES,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        ),
        Alarm(
            name=f"counterpromo-{env}-rds-free-storage",
            description=f"counterpromo-{env}-postgres has less than 2 GiB of free storage",
            definition={
                "Namespace": "AWS/RDS",
                "MetricName": "FreeStorageSpace",
                "Dimensions": [
                    {"Name": "DBInstanceIdentifier", "Value": f"counterpromo-{env}-postgres"}
                ],
                "Statistic": "Minimum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": RDS_MIN_FREE_BYTES,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "missing",
            },
        ),
        _running_below_desired(env, "api"),
        _running_below_desired(env, "worker"),
    ]


def alerts_topic(ssm: SSMClient, env: str) -> str:
    """The SNS topic ARN in SSM; OpsError if the parameter is absent or not an SNS ARN."""
    name = f"/counterpromo/{env}/{TOPIC_PARAMETER}"
    try:
        value = ssm.get_parameter(Name=name)["Parameter"].get("Value", "")
    except ssm.exceptions.ParameterNotFound:
        raise OpsError(
            f"SSM parameter {name} is missing: put the alerts SNS topic ARN there"
        ) from None
    if not value.startswith("arn:aws:sns:"):
        raise OpsError(f"SSM parameter {name} is not an SNS topic ARN: {value!r}")
    return value


def load_balancer_dimension(elbv2: Any, env: str) -> str:
    """``app/counterpromo-{env}-alb/<id>``, the ALB's CloudWatch dimension value."""
    name = f"counterpromo-{env}-alb"
    try:
        found = elbv2.describe_load_balancers(Names=[name])["LoadBalancers"]
    except elbv2.exceptions.LoadBalancerNotFoundException:
        found = []
    if not found:
        raise OpsError(f"load balancer {name} not found")
    arn: str = found[0]["LoadBalancerArn"]
    return arn.split(":loadbalancer/", 1)[1]


def apply_alarms(
    cloudwatch: CloudWatchClient, alarms: list[Alarm], topic_arn: str, env: str
) -> None:
    for alarm in alarms:
        cloudwatch.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description,
            ActionsEnabled=True,
            AlarmActions=[topic_arn],
            OKActions=[topic_arn],
            Tags=[{"Key": "project", "Value": "counterpromo"}, {"Key": "env", "Value": env}],
            **alarm.definition,
        )


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    actions: list[str]


def list_alarms(cloudwatch: CloudWatchClient, env: str) -> list[AlarmState]:
    """The environment's alarms (by name prefix) and their current state."""
    states: list[AlarmState] = []
    paginator = cloudwatch.get_paginator("describe_alarms")
    for page in paginator.paginate(
        AlarmNamePrefix=f"counterpromo-{env}-", AlarmTypes=["MetricAlarm"]
    ):
        states += [
            AlarmState(a["AlarmName"], a["StateValue"], list(a.get("AlarmActions", [])))
            for a in page.get("MetricAlarms", [])
        ]
    return sorted(states, key=lambda s: s.name)
