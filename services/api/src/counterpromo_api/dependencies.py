"""Request-level dependencies shared by the routes: Idempotency-Key and If-Match."""

from __future__ import annotations

import re
from typing import Annotated

from counterpromo_core.roles import Actor
from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from counterpromo_api import idempotency
from counterpromo_api.auth import current_actor
from counterpromo_api.problems import ApiProblem
from counterpromo_api.services import services_of
from counterpromo_api.transaction import remember_claim


async def _idempotency_key(
    request: Request,
    actor: Annotated[Actor, Depends(current_actor)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=idempotency.KEY_PATTERN,
            description="Makes a retry safe: the same key with the same body within 24 h "
            "returns the first response (`Idempotent-Replayed: true`); the same key with "
            "another body is a 422; while the first request runs, a 409.",
        ),
    ] = None,
) -> None:
    if key is None:
        return
    services = services_of(request)
    request_hash = idempotency.fingerprint(request.method, request.url.path, await request.body())
    claimed = await run_in_threadpool(
        idempotency.claim,
        services.sessions,
        actor.account_id,
        key,
        request_hash,
        now=services.clock.now(),
    )
    remember_claim(request, claimed)


Idempotent = Depends(_idempotency_key)

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def etag(version: int) -> str:
    return f'W/"{version}"'


def _expected_version(
    # Authentication first: an unauthenticated request is a 401 whatever its other headers.
    _actor: Annotated[Actor, Depends(current_actor)],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The version you last read: the `ETag` (`W/"3"`) or the plain number. '
            "A stale version is a 412.",
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _IF_MATCH.match(if_match)
    if match is None:
        raise ApiProblem(
            400, "bad-if-match", 'If-Match must be the ETag (W/"<version>") or the version number'
        )
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(_expected_version)]
