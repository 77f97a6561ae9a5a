"""RFC 9457 problem details: the body of every error response.

Domain errors from core and billing are mapped here, once, to a status and a
problem type; route functions just let them propagate.
"""

from __future__ import annotations

import datetime as dt
import logging
from http import HTTPStatus
from typing import Any

from counterpromo_billing.errors import BillingUnavailable
from counterpromo_core import errors as domain
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from counterpromo_api.allowed_methods import allowed_methods
from counterpromo_api.logs import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://counterpromo.com/problems/"

log = logging.getLogger("counterpromo_api.errors")


class FieldProblem(BaseModel):
    field: str = Field(
        description="Where the bad value is: a dotted path into the body, "
        "or `query.<name>`, `path.<name>`, `header.<name>`."
    )
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem; extension members depend on the problem type."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(default=None, description="Quote it when asking for support.")
    errors: list[FieldProblem] | None = Field(default=None, description="Field errors (422).")
    metric: str | None = Field(
        default=None, description="limit-exceeded: the counter that is full."
    )
    limit: int | None = Field(default=None, description="limit-exceeded: the plan's limit.")
    used: int | None = Field(default=None, description="limit-exceeded: how much is used.")
    resets_at: dt.datetime | None = Field(
        default=None, description="limit-exceeded: when a monthly counter starts again (UTC)."
    )
    feature: str | None = Field(default=None, description="feature-not-in-plan: the feature.")
    plan: str | None = Field(default=None, description="feature-not-in-plan: the current plan.")
    required_role: str | None = Field(default=None, description="forbidden: the role needed.")
    current_version: int | None = Field(
        default=None, description="precondition-failed: the promo's current version."
    )


class ApiProblem(StarletteHTTPException):
    """An error the HTTP layer raises itself (auth, bad headers, idempotency, body size...).

    An ``HTTPException`` so that FastAPI passes it through unchanged even when it is
    raised while the request body is being read.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status, detail, headers or {})
        self.status = status
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.extensions = extensions


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="counterpromo", error="invalid_token"'},
    )


def problem_response(request: Request | None, problem: ApiProblem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    body.update({k: v for k, v in problem.extensions.items() if v is not None})
    content = Problem.model_validate(body).model_dump(mode="json", exclude_none=True)
    return JSONResponse(
        content,
        status_code=problem.status,
        headers=dict(problem.headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def from_domain(error: domain.DomainError) -> ApiProblem:  # noqa: PLR0911 - one arm per error
    """The HTTP face of a domain error (see README, "Errors")."""
    match error:
        case domain.NotFound():
            return ApiProblem(404, "not-found", error.message, resource=error.resource)
        case domain.PreconditionFailed():
            return ApiProblem(
                412, "precondition-failed", error.message, current_version=error.current_version
            )
        case domain.Conflict():
            return ApiProblem(409, "conflict", error.message)
        case domain.LimitExceeded():
            return ApiProblem(
                402,
                "limit-exceeded",
                error.message,
                title="Plan limit reached",
                metric=error.metric,
                limit=error.limit,
                used=error.used,
                resets_at=error.resets_at,
            )
        case domain.FeatureNotInPlan():
            return ApiProblem(
                402,
                "feature-not-in-plan",
                error.message,
                title="Not in your plan",
                feature=error.feature,
                plan=error.plan,
            )
        case domain.PermissionDenied():
            return ApiProblem(403, "forbidden", error.message, required_role=error.required_role)
        case domain.ValidationFailed():
            return ApiProblem(
                422,
                "validation-failed",
                "the request is not valid: see errors",
                errors=[{"field": e.field, "message": e.message} for e in error.errors],
            )
        case BillingUnavailable():
            return ApiProblem(
                503,
                "billing-unavailable",
                error.message,
                headers={"Retry-After": str(error.retry_after)},
            )
    return ApiProblem(422, "invalid-request", error.message)


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def from_validation(error: RequestValidationError) -> ApiProblem:
    errors = [
        {"field": _field_path(tuple(item.get("loc", ()))), "message": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    return ApiProblem(
        422, "validation-failed", "the request is not valid: see errors", errors=errors
    )


_DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.TimeoutError)


def to_problem(exc: Exception) -> ApiProblem:  # noqa: PLR0911 - one arm per kind of error
    if isinstance(exc, ApiProblem):
        return exc
    if isinstance(exc, domain.DomainError):
        return from_domain(exc)
    if isinstance(exc, RequestValidationError):
        return from_validation(exc)
    if isinstance(exc, StarletteHTTPException):
        phrase = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        slug = phrase.lower().replace(" ", "-")
        return ApiProblem(exc.status_code, slug, detail, headers=dict(exc.headers or {}))
    # Database messages may name hosts or users: log the kind of error only.
    log.warning("database error", extra={"error_type": type(exc).__name__})
    if isinstance(exc, _DATABASE_UNAVAILABLE):
        return ApiProblem(
            503,
            "service-unavailable",
            "the database is not reachable right now; try again shortly",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, sa_exc.IntegrityError):
        # A constraint caught a race the use-case could not see (e.g. a duplicate name).
        return ApiProblem(409, "conflict", "the change conflicts with the current state")
    if isinstance(exc, sa_exc.DataError):
        return ApiProblem(
            422,
            "invalid-value",
            "a value cannot be stored (text with NUL characters, or out of range)",
        )
    raise exc


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    problem = to_problem(exc)
    if problem.status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = allowed_methods(request.app.routes, request.scope)
        problem.headers = {**(problem.headers or {}), "Allow": ", ".join(allowed)}
    return problem_response(request, problem)


def install(app: FastAPI) -> None:
    for kind in (
        domain.DomainError,
        ApiProblem,
        RequestValidationError,
        StarletteHTTPException,
        *_DATABASE_UNAVAILABLE,
        sa_exc.IntegrityError,
        sa_exc.DataError,
    ):
        app.add_exception_handler(kind, _handle)


def _problem_doc(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request (e.g. a malformed header).",
    401: "Missing, unknown or revoked credentials (`WWW-Authenticate: Bearer`).",
    402: "The plan's limit is reached (`limit-exceeded`: metric, limit, used, resets_at) "
    "or the feature is not in the plan (`feature-not-in-plan`: feature, plan).",
    403: "The key's role is too low (`required_role`).",
    404: "No such object in this account.",
    409: "Conflicts with the current state, or the same Idempotency-Key is still in flight.",
    412: "`If-Match` names a version that is no longer current (`current_version`).",
    413: "The request body is larger than 1 MiB.",
    422: "Invalid input (`errors`: field and message), or an Idempotency-Key reused "
    "with a different body.",
    500: "Unexpected error; the body holds only the request id.",
    503: "The database is unavailable; retry later.",
}
COMMON_ERRORS = (400, 401, 404, 413, 422, 500, 503)


def error_responses(*extra: int, common: tuple[int, ...] = COMMON_ERRORS) -> dict[int | str, Any]:
    """The documented error responses of a route: the common ones plus ``extra``."""
    return {
        status: _problem_doc(ERROR_DESCRIPTIONS[status]) for status in sorted({*common, *extra})
    }
