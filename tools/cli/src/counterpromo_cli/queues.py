"""The jobs queue of an environment, as the worker sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from counterpromo_cli.environment import load

if TYPE_CHECKING:
    from counterpromo_storage.queue import JobQueue
    from counterpromo_storage.settings import AppConfig
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class EnvQueue:
    config: AppConfig
    sqs: SQSClient
    queue: JobQueue


def env_queue(env: str | None) -> EnvQueue:
    from counterpromo_storage.clients import sqs_client
    from counterpromo_storage.queue import JobQueue

    config = load(env)
    sqs = sqs_client(config.region, config.aws_endpoint_url)
    return EnvQueue(config=config, sqs=sqs, queue=JobQueue.from_config(config, sqs))
