"""Routers whose routes run in one transaction and document their errors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from counterpromo_api.problems import error_responses
from counterpromo_api.services import services_of
from counterpromo_api.transaction import TransactionalRoute

AUTHED_ERRORS = (400, 401, 403, 404, 413, 422, 500, 503)


API_PREFIX = "/v1"


def api_router(prefix: str = "", **kwargs: Any) -> APIRouter:
    """A router under ``/v1`` (its routes' own paths carry the prefix: the access log uses them)."""
    return APIRouter(
        prefix=API_PREFIX + prefix,
        route_class=TransactionalRoute,
        responses=error_responses(common=AUTHED_ERRORS),
        **kwargs,
    )


def url_for(request: Request, name: str, **params: Any) -> str:
    """The URL of route ``name``, for ``Location`` headers.

    Absolute under the configured public URL (``API_PUBLIC_URL``, env or SSM
    ``/counterpromo/{env}/api/public_url``: the origin, e.g. ``https://app.example``),
    relative (``/v1/...``) when none is configured; either way under the path prefix the
    request came in by (``COUNTERPROMO_API_PREFIX``). Never built from the request's
    ``Host`` header, which the client chooses.
    """
    path = request.app.url_path_for(name, **{k: str(v) for k, v in params.items()})
    # The path prefix the request came in under (``/api`` behind the ALB), if any.
    root_path: str = request.scope.get("root_path", "")
    public_url = services_of(request).config.api_public_url
    if public_url:
        return public_url.rstrip("/") + root_path + str(path)
    return root_path + str(path)
