"""Shared helpers for the use-case tests: a settable clock, accounts on chosen plans."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from counterpromo_core import accounts
from counterpromo_core.plans import PlanDefinition, sync_plans
from counterpromo_core.ports import ManualClock
from sqlalchemy.orm import Session, sessionmaker

TEN_PLAN = PlanDefinition(
    code="test-ten",
    name="Ten of everything",
    price_monthly=Decimal("1.00"),
    max_promos_per_month=10,
    max_renders_per_month=10,
    max_branches=2,
    max_seats=2,
    watermark=False,
    branch_packs=True,
    coop_report=False,
    sort_order=99,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def test_plans(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sync_plans(session, (TEN_PLAN,))


@pytest.fixture
def new_account(sessions: sessionmaker[Session], test_plans: None) -> Callable[..., uuid.UUID]:
    """Create (and commit) an account on a plan; returns its id."""

    def make(plan_code: str = "free", name: str = "Acme Builders") -> uuid.UUID:
        with sessions.begin() as session:
            account = accounts.create_account(
                session,
                name=name,
                owner_email=f"owner-{uuid.uuid4().hex[:8]}@acme.test",
                currency="GBP",
                locale="en-GB",
                plan_code=plan_code,
            )
            return account.id

    return make


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is rolled back at the end of the test."""
    with sessions() as s:
        s.begin()
        yield s
        s.rollback()


@contextmanager
def _statements_sent(session: Session) -> Iterator[list[str]]:
    """The SQL the session's connection sends meanwhile, whether through SQLAlchemy or
    straight through psycopg (a ``HotQuery``): both make their cursors from the DBAPI
    connection, whose cursor factory records each statement."""
    sent: list[str] = []

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(" ".join(str(query).split()))
            return super().execute(query, *args, **kwargs)

    connection: Any = session.connection().connection.driver_connection
    saved = connection.cursor_factory
    connection.cursor_factory = Recording
    try:
        yield sent
    finally:
        connection.cursor_factory = saved


StatementsSent = Callable[[Session], AbstractContextManager[list[str]]]


@pytest.fixture
def statements_sent() -> StatementsSent:
    """``with statements_sent(session) as sent:``: the SQL statements sent meanwhile."""
    return _statements_sent
