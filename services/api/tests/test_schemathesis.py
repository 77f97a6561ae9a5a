"""Property-based fuzzing of the whole OpenAPI document against the running API."""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from counterpromo_api.testing import make_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Valid requests exercise the use-cases; invalid ones the error paths.
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 5}
MINIMUM_CASES = 500


def test_generated_requests_get_no_5xx_and_schema_conformant_responses(
    api_url: str, sessions: sessionmaker[Session]
) -> None:
    # Dealer plan: no monthly promo limit, so creates keep exercising the real code paths.
    tenant = make_tenant(sessions, plan="dealer")
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) >= 45
    cases = 0

    for operation, mode in itertools.product(operations, GenerationMode):

        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(base_url=api_url, headers=tenant.headers, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid variant to send.
            if mode is GenerationMode.POSITIVE:
                raise

    assert cases >= MINIMUM_CASES
