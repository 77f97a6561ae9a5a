"""Synthesized stacks, built once per test session (synthesis takes seconds).

Nothing here imports ``aws_cdk`` before ``counterpromo_infra``: the package points jsii at
the locked Node.js before the runtime starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from counterpromo_infra.testing import stack_of, template_of

if TYPE_CHECKING:
    from aws_cdk.assertions import Template
    from counterpromo_infra.stack import CounterPromoStack


@pytest.fixture(scope="session")
def dev() -> Template:
    return template_of("dev")


@pytest.fixture(scope="session")
def prod() -> Template:
    return template_of("prod")


@pytest.fixture(scope="session")
def dev_stack() -> CounterPromoStack:
    return stack_of("dev")
