"""The FastAPI application: ``create_app()`` wires config, resources, middleware and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from counterpromo_core.ports import Clock
from counterpromo_storage.config import load_config
from counterpromo_storage.settings import AppConfig
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from counterpromo_api import __version__, problems
from counterpromo_api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from counterpromo_api.path_prefix import PathPrefixMiddleware
from counterpromo_api.problems import Problem
from counterpromo_api.routes import (
    account,
    assets,
    billing,
    brand,
    health,
    items,
    plans,
    promos,
    webhooks,
    work,
)
from counterpromo_api.services import Services
from counterpromo_api.settings import ApiSettings

DESCRIPTION = """\
Counter Promo turns product lists into print-ready promotional flyers.

**Authentication**: `Authorization: Bearer <API key>` (keys start with `cpk_`), or an
OIDC access token where configured (then `X-Account-Id` names the account when the
identity belongs to several). Roles: owner > admin > member.

**Errors** are RFC 9457 problem details (`application/problem+json`):
`type`, `title`, `status`, `detail`, `request_id`, plus, by type:

| status | when |
|---|---|
| 400 | malformed header (If-Match), OIDC identity in several accounts without X-Account-Id |
| 401 | no, unknown or revoked credentials (`WWW-Authenticate: Bearer`) |
| 402 | plan limit reached (`limit-exceeded`: `metric`, `limit`, `used`, `resets_at`) |
| 402 | feature not in the plan (`feature-not-in-plan`: `feature`, `plan`) |
| 403 | the key's role is too low (`required_role`) |
| 404 | no such object *in your account* (another account's object is a 404 too) |
| 409 | conflicts with the current state; an Idempotency-Key still in flight |
| 412 | stale `If-Match` (`current_version`) |
| 413 | body over 1 MiB |
| 422 | invalid input (`errors`: `[{field, message}]`); Idempotency-Key reused with another body |
| 503 | database (or identity provider) unavailable: retry |
| 500 | unexpected: the body holds the request id only |

**Concurrency**: promos carry a `version`; send it back as `If-Match` (`W/"3"` as in the
`ETag`, or `3`) and a stale one is a 412.

**Retries**: POSTs that create work accept `Idempotency-Key`; a retry with the same key
and body within 24 h gets the first response back (`Idempotent-Replayed: true`).
"""


def _openapi_with_problem(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in problem.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["Problem"] = problem
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(
    config: AppConfig | None = None,
    *,
    settings: ApiSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API. ``config`` defaults to storage's ``load_config()`` (env vars, SSM, secrets)."""
    settings = settings or ApiSettings()
    services = Services.build(config or load_config(), settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if services.applier is not None:
            services.applier.start()
        yield
        services.close()

    app = FastAPI(
        title="Counter Promo API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app)
    app.include_router(health.router)
    app.include_router(webhooks.router)
    app.include_router(plans.public)
    for module in (account, plans, promos, items, brand, work, assets, billing):
        app.include_router(module.router)
    app.openapi = lambda: _openapi_with_problem(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    if settings.api_prefix:
        app.add_middleware(PathPrefixMiddleware, prefix=settings.api_prefix)
    # Outermost: the client address and scheme behind the ALB, from trusted proxies only.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app
