"""One database transaction per request, owned by the route, not by the route function.

``TransactionalRoute`` commits after the route function returned a success
response (and stores it under the request's Idempotency-Key in the same
transaction), rolls back on any error, and after a commit that created jobs
hands the outbox to SQS straight away. When SQS is down the jobs stay in the
outbox for the sweeper and the request still succeeds.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from counterpromo_core import jobs
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from counterpromo_api import idempotency
from counterpromo_api.services import Services, services_of

log = logging.getLogger("counterpromo_api.transaction")

_SESSION = "db_session"
_CLAIM = "idempotency_claim"
_DISPATCH = "dispatch_jobs"


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


def queues_jobs(request: Request) -> None:
    """Marks a route whose successful requests create jobs."""
    setattr(request.state, _DISPATCH, True)


def remember_claim(request: Request, claimed: idempotency.Claim) -> None:
    setattr(request.state, _CLAIM, claimed)


def _json_body(response: Response) -> Any:
    return json.loads(bytes(response.body)) if response.body else None


def _commit(request: Request, response: Response) -> None:
    session: Session | None = getattr(request.state, _SESSION, None)
    claimed: idempotency.Claim | None = getattr(request.state, _CLAIM, None)
    if session is None:
        return
    try:
        if claimed is not None:
            location = response.headers.get("location")
            idempotency.store(
                session, claimed, response.status_code, _json_body(response), location
            )
        session.commit()
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


def _dispatch(services: Services) -> None:
    try:
        jobs.dispatch_outbox(services.sessions, services.queue, clock=services.clock)
    except Exception as exc:  # noqa: BLE001 - the sweeper sends what is left in the outbox
        log.warning("outbox dispatch failed", extra={"error_type": type(exc).__name__})


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except idempotency.Replay as replay:
                # The stored response belongs to the first request: keep its key.
                await run_in_threadpool(functools.partial(_rollback, release_claim=False), request)
                return _replayed(replay)
            except BaseException:
                await run_in_threadpool(_rollback, request)
                raise
            if response.status_code >= 400:
                await run_in_threadpool(_rollback, request)
                return response
            try:
                await run_in_threadpool(_commit, request, response)
            except BaseException:
                await run_in_threadpool(_rollback, request)
                raise
            if getattr(request.state, _DISPATCH, False):
                await run_in_threadpool(_dispatch, services_of(request))
            return response

        return run


def _replayed(replay: idempotency.Replay) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if replay.location:
        headers["Location"] = replay.location
    if replay.body is None:
        return Response(status_code=replay.status, headers=headers)
    return JSONResponse(replay.body, status_code=replay.status, headers=headers)
