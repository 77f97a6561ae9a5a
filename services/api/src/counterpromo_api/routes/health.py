"""Probes for the load balancer: ``/health`` (the process answers) and ``/ready``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from counterpromo_api.problems import ApiProblem, error_responses, problem_response
from counterpromo_api.responses import HealthOut, ReadyOut
from counterpromo_api.services import Services, services_of

router = APIRouter(tags=["health"])
log = logging.getLogger("counterpromo_api.health")


@router.get("/health", summary="The process is up (no dependencies checked)")
async def health() -> HealthOut:
    return HealthOut()


def _check_database(services: Services) -> None:
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_queue(services: Services) -> None:
    services.sqs.get_queue_attributes(
        QueueUrl=services.config.jobs_queue_url, AttributeNames=["QueueArn"]
    )


@router.get(
    "/ready",
    summary="The database and the jobs queue answer",
    responses={200: {"model": ReadyOut}, **error_responses(common=(500, 503))},
    response_model=None,
)
async def ready(request: Request) -> ReadyOut | JSONResponse:
    services = services_of(request)
    checks: dict[str, str] = {}
    failing: list[str] = []
    for name, check in (("database", _check_database), ("queue", _check_queue)):
        try:
            await run_in_threadpool(check, services)
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready", extra={"part": name, "error_type": type(exc).__name__})
            checks[name] = "unavailable"
            failing.append(name)
    if failing:
        return problem_response(
            request,
            ApiProblem(
                503,
                "not-ready",
                f"not reachable: {', '.join(failing)}",
                headers={"Retry-After": "5"},
                checks=checks,
            ),
        )
    return ReadyOut(checks=checks)
