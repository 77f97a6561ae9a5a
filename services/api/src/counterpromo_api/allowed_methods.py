"""The methods served at a path: the ``Allow`` header of a 405."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route serves at ``scope``'s path, sorted.

    Starlette's own 405 names the methods of the first route whose path matched only,
    while several routes often share a path (``GET``, ``PATCH`` and ``DELETE`` of one
    promo). Each method is asked of the routes themselves (their public ``matches``), so
    included routers and mounts answer for their own routes.
    """
    served = []
    for method in HTTP_METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            served.append(method)
    return served
