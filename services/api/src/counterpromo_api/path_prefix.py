"""Serve the API under a path prefix as well (``/api`` behind the deployed ALB).

The ALB forwards ``/api/*`` and ``/webhooks/*`` to the API with the path as is. A request
whose path starts with the prefix gets the prefix as its ASGI ``root_path``: Starlette then
routes on the rest of the path (``/api/v1/promos`` is ``/v1/promos``), and every URL the API
builds (``Location`` headers, the OpenAPI document's ``servers``) carries the prefix. Other
paths (``/health`` for the target group, ``/webhooks/stripe``) are served unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class PathPrefixMiddleware:
    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            path: str = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix}
        await self.app(scope, receive, send)
