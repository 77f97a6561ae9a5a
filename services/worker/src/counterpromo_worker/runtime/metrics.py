"""The worker's CloudWatch metric: ``CounterPromo``/``JobsFailed``, dimension ``Env``.

One datapoint of 1 whenever a job fails permanently or goes dead (the DLQ takes
it). The environment's ``job-failures`` alarm (``counterpromo ops alarms apply``)
watches its sum; the worker's task role may put data in the ``CounterPromo``
namespace only. Publishing is best effort: a failure is logged and never
changes what happens to the job.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from counterpromo_storage.settings import AppConfig
    from mypy_boto3_cloudwatch import CloudWatchClient

log = logging.getLogger("counterpromo_worker.metrics")

NAMESPACE = "CounterPromo"
JOBS_FAILED = "JobsFailed"

# Short timeouts and one retry: a slow CloudWatch must not hold a job slot for long.
_CLIENT_CONFIG: Any = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2}
)


class JobMetrics(Protocol):
    def job_failed(self, job_type: str) -> None:
        """Count one job that failed for good (permanent failure or dead); never raises."""
        ...


class CloudWatchJobMetrics:
    def __init__(self, cloudwatch: CloudWatchClient, env: str) -> None:
        self.cloudwatch = cloudwatch
        self.env = env

    def job_failed(self, job_type: str) -> None:
        try:
            self.cloudwatch.put_metric_data(
                Namespace=NAMESPACE,
                MetricData=[
                    {
                        "MetricName": JOBS_FAILED,
                        "Dimensions": [{"Name": "Env", "Value": self.env}],
                        "Value": 1,
                        "Unit": "Count",
                    }
                ],
            )
        except Exception as error:  # noqa: BLE001 - best effort: the job is already settled
            log.warning(
                "could not publish the %s metric: %s",
                JOBS_FAILED,
                type(error).__name__,
                extra={"job_type": job_type},
            )


def cloudwatch_client(config: AppConfig) -> CloudWatchClient:
    """A CloudWatch client for the configuration's region and endpoint (moto in tests)."""
    return boto3.client(
        "cloudwatch",
        region_name=config.region,
        endpoint_url=config.aws_endpoint_url,
        config=_CLIENT_CONFIG,
    )


def cloudwatch_job_metrics(config: AppConfig) -> CloudWatchJobMetrics:
    return CloudWatchJobMetrics(cloudwatch_client(config), config.env)


__all__ = [
    "JOBS_FAILED",
    "NAMESPACE",
    "CloudWatchJobMetrics",
    "JobMetrics",
    "cloudwatch_client",
    "cloudwatch_job_metrics",
]
