"""Request ids, the access log line and the last-resort 500, as one ASGI middleware."""

from __future__ import annotations

import logging
import re
import time
import traceback
import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterpromo_api.logs import log_context
from counterpromo_api.problems import ApiProblem, problem_response

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_log = logging.getLogger("counterpromo_api.access")
error_log = logging.getLogger("counterpromo_api.errors")


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case), straight from the scope."""
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _incoming_request_id(scope: Scope) -> str | None:
    text = _header(scope, b"x-request-id")
    return text if text is not None and _VALID_REQUEST_ID.match(text) else None


def _path(scope: Scope) -> str:
    # What ``Request(scope).url.path`` gives, without building the URL on every request.
    path: str = scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _where(exc: BaseException) -> str:
    # The innermost frame only: enough to find the bug, never a value from it.
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-Id``, taken from the caller when well-formed),
    logs one JSON line per request, and turns any unhandled exception into a 500 problem
    that carries the request id and nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        with log_context(request_id=request_id):
            await self._serve(scope, receive, send, request_id)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            error_log.error(
                "unhandled error",
                exc_info=exc,
                extra={"error_type": type(exc).__name__, "where": _where(exc)},
            )
            if response_started:
                raise
            problem = ApiProblem(
                500, "internal-error", f"unexpected error; request id {request_id}"
            )
            await problem_response(None, problem)(scope, receive, send_with_id)
        finally:
            self._log(scope, status, started, request_id)

    @staticmethod
    def _log(scope: Scope, status: int, started: float, request_id: str) -> None:
        route = scope.get("route")
        state: dict[str, Any] = scope.get("state", {})
        access_log.info(
            "request",
            extra={
                "method": scope.get("method"),
                "route": getattr(route, "path", None),
                "path": _path(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "account_id": str(state["account_id"]) if state.get("account_id") else None,
                "client": (scope.get("client") or (None,))[0],
                "request_id": request_id,
            },
        )


def _too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, "body-too-large", f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes with a 413 problem.

    A declared Content-Length is checked before the app runs; a chunked body is
    counted as it is read, and the read fails (handled as a 413 problem) once over.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await problem_response(Request(scope), _too_large(self.limit))(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _too_large(self.limit)
            return message

        await self.app(scope, counted_receive, send)
