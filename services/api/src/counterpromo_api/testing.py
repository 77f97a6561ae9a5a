"""Helpers for tests that drive the API over HTTP: a uvicorn server thread, test tenants."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass

import uvicorn
from counterpromo_core import accounts, api_keys
from counterpromo_core.db.models import StripeEvent
from counterpromo_core.roles import Role
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerThread:
    """uvicorn serving ``app`` on 127.0.0.1 from a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = _free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            # As in production: the app applies X-Forwarded-* from its trusted proxies.
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass(frozen=True)
class Tenant:
    account_id: uuid.UUID
    key: str
    sessions: sessionmaker[Session]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def key_with_role(self, role: Role, name: str | None = None) -> str:
        with self.sessions.begin() as session:
            created = api_keys.create_api_key(
                session, self.account_id, name=name or f"{role} key", role=role
            )
            return created.plaintext


def make_tenant(
    sessions: sessionmaker[Session],
    *,
    plan: str = "free",
    currency: str = "USD",
    locale: str = "en-US",
) -> Tenant:
    with sessions.begin() as session:
        account = accounts.create_account(
            session,
            name=f"Dealer {uuid.uuid4().hex[:6]}",
            owner_email=f"owner-{uuid.uuid4().hex[:8]}@example.com",
            currency=currency,
            locale=locale,
            plan_code=plan,
        )
        key = api_keys.create_api_key(session, account.id, name="owner key", role="owner")
        return Tenant(account.id, key.plaintext, sessions)


def applied_outcome(
    sessions: sessionmaker[Session], event_id: str, *, timeout: float = 60.0
) -> str:
    """Wait until the background applier has dealt with a stored Stripe event; its outcome:
    ``processed`` (acted on or ignored), ``unattributed`` (not ours: stored with the reason)
    or ``failed`` (an attempt failed; it is retried with backoff)."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            row = session.get(StripeEvent, event_id)
            if row is not None and row.ignored_reason is not None:
                return "unattributed"
            if row is not None and row.processed_at is not None:
                return "processed"
            if row is not None and row.error is not None:
                return "failed"
        if time.monotonic() > deadline:
            raise TimeoutError(f"stripe event {event_id} was not applied within {timeout} s")
        time.sleep(0.05)
