"""One database transaction per request, owned by the route, not by the route function.

``TransactionalRoute`` commits after the route function returned a success
response (and stores it under the request's Idempotency-Key in the same
transaction) and rolls back on any error. A sync route function that returns a
``Response`` commits in its own worker thread (each threadpool hop costs about
0.13 ms of CPU: measured, issue 17). After a commit that created jobs it
sends those jobs' messages, and only those, once the response has gone (a
background task of the response): the client never waits on SQS, and a backlog
in the outbox is the sweeper's, never a request's. When SQS is down the jobs
stay in the outbox for the sweeper and the request still succeeds.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from counterpromo_core import jobs
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.concurrency import run_in_threadpool

from counterpromo_api import idempotency
from counterpromo_api.services import Services, services_of

log = logging.getLogger("counterpromo_api.transaction")

_SESSION = "db_session"
_CLAIM = "idempotency_claim"
_COMMITTED = "committed_job_ids"
_CURRENT_REQUEST: ContextVar[Request] = ContextVar("counterpromo_api_request")


async def db_session(request: Request) -> Session:
    """The request's session (made on first use; the route commits or rolls it back).

    ``async``: making a session does no I/O (it connects on first use, in the threadpool),
    so FastAPI need not send this dependency to a worker thread.
    """
    session: Session | None = getattr(request.state, _SESSION, None)
    if session is None:
        session = services_of(request).sessions()
        setattr(request.state, _SESSION, session)
    return session


def remember_claim(request: Request, claimed: idempotency.Claim) -> None:
    setattr(request.state, _CLAIM, claimed)


def _json_body(response: Response) -> Any:
    return json.loads(bytes(response.body)) if response.body else None


def _commit(request: Request, response: Response) -> list[uuid.UUID]:
    """Commit the request's transaction; the ids of the jobs it created."""
    session: Session | None = getattr(request.state, _SESSION, None)
    claimed: idempotency.Claim | None = getattr(request.state, _CLAIM, None)
    if session is None:
        return []
    try:
        if claimed is not None:
            location = response.headers.get("location")
            idempotency.store(
                session, claimed, response.status_code, _json_body(response), location
            )
        session.commit()
        return jobs.jobs_created_in(session)
    finally:
        session.close()


def _rollback(request: Request, *, release_claim: bool = True) -> None:
    session: Session | None = getattr(request.state, _SESSION, None)
    claimed: idempotency.Claim | None = getattr(request.state, _CLAIM, None)
    if session is not None:
        try:
            session.rollback()
        finally:
            session.close()
    if claimed is not None and release_claim:
        try:
            idempotency.release(services_of(request).sessions, claimed)
        except Exception as exc:  # noqa: BLE001 - the claim expires by itself
            log.warning("idempotency release failed", extra={"error_type": type(exc).__name__})


def _dispatch(services: Services, job_ids: list[uuid.UUID]) -> None:
    """Send the request's own jobs (runs in the threadpool after the response is sent)."""
    try:
        jobs.dispatch_jobs(services.sessions, services.queue, job_ids, clock=services.clock)
    except Exception as exc:  # noqa: BLE001 - the sweeper sends what is left in the outbox
        log.warning("outbox dispatch failed", extra={"error_type": type(exc).__name__})


def _after_response(response: Response, task: BackgroundTask) -> None:
    """Run ``task`` once ``response`` has been sent (after any task it already had)."""
    if response.background is None:
        response.background = task
        return
    tasks = BackgroundTasks()
    tasks.add_task(response.background)
    tasks.add_task(task)
    response.background = tasks


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` (a sync one) committing in its own worker thread when it returns a
    success ``Response``: the commit costs no threadpool hop of its own. An endpoint that
    returns a model still commits in ``run``, once FastAPI has made its response."""

    @functools.wraps(endpoint)
    def call(*args: Any, **kwargs: Any) -> Any:
        response = endpoint(*args, **kwargs)
        if isinstance(response, Response) and response.status_code < 400:
            request = _CURRENT_REQUEST.get()
            setattr(request.state, _COMMITTED, _commit(request, response))
        return response

    return call


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _committing(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            # Copied into the worker threads with the rest of the context (anyio does).
            current = _CURRENT_REQUEST.set(request)
            try:
                response = await handler(request)
            except idempotency.Replay as replay:
                # The stored response belongs to the first request: keep its key.
                await run_in_threadpool(functools.partial(_rollback, release_claim=False), request)
                return _replayed(replay)
            except BaseException:
                await run_in_threadpool(_rollback, request)
                raise
            finally:
                _CURRENT_REQUEST.reset(current)
            if response.status_code >= 400:
                await run_in_threadpool(_rollback, request)
                return response
            created: list[uuid.UUID] | None = getattr(request.state, _COMMITTED, None)
            if created is None:
                try:
                    created = await run_in_threadpool(_commit, request, response)
                except BaseException:
                    await run_in_threadpool(_rollback, request)
                    raise
            if created:
                # A sync callable: Starlette runs it in the threadpool, after the body is sent.
                _after_response(response, BackgroundTask(_dispatch, services_of(request), created))
            return response

        return run


def _replayed(replay: idempotency.Replay) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if replay.location:
        headers["Location"] = replay.location
    if replay.body is None:
        return Response(status_code=replay.status, headers=headers)
    return JSONResponse(replay.body, status_code=replay.status, headers=headers)
