"""API keys: shown once, stored hashed, refused when revoked or wrong."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from counterpromo_core import api_keys
from counterpromo_core.db.models import ApiKey
from counterpromo_core.errors import PermissionDenied
from counterpromo_core.ports import ManualClock
from counterpromo_core.roles import Actor, Role
from sqlalchemy import select, text
from sqlalchemy.orm import Session

StatementsSent = Callable[[Session], AbstractContextManager[list[str]]]

NewAccount = Callable[..., uuid.UUID]


def test_key_format(session: Session, new_account: NewAccount) -> None:
    created = api_keys.create_api_key(session, new_account(), name="CI", role="admin")
    assert created.plaintext.startswith("cpk_")
    assert len(created.plaintext) >= 4 + 32
    assert created.plaintext.startswith(created.api_key.prefix)


def test_plaintext_is_never_stored(session: Session, new_account: NewAccount) -> None:
    created = api_keys.create_api_key(session, new_account(), name="CI", role="admin")
    secret = created.plaintext[len(created.api_key.prefix) + 1 :]
    session.flush()
    rows = session.execute(text("SELECT * FROM api_keys")).mappings().all()
    stored = [str(value) for row in rows for value in row.values() if value is not None]
    assert stored
    assert not [v for v in stored if created.plaintext in v or secret in v]


def test_authenticate_returns_the_actor(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account()
    created = api_keys.create_api_key(session, account_id, name="CI", role="member")
    actor = api_keys.authenticate(session, created.plaintext, clock=clock)
    assert actor is not None
    assert (actor.account_id, actor.role, actor.api_key_id) == (
        account_id,
        "member",
        created.api_key.id,
    )


def test_wrong_secret_with_the_right_prefix_fails(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    created = api_keys.create_api_key(session, new_account(), name="CI", role="admin")
    last = created.plaintext[-1]
    tampered = created.plaintext[:-1] + ("A" if last != "A" else "B")
    assert api_keys.authenticate(session, tampered, clock=clock) is None


def test_revoked_key_fails(session: Session, new_account: NewAccount, clock: ManualClock) -> None:
    account_id = new_account()
    created = api_keys.create_api_key(session, account_id, name="CI", role="admin")
    revoked = api_keys.revoke_api_key(session, account_id, created.api_key.id)
    assert revoked.revoked_at is not None
    assert api_keys.authenticate(session, created.plaintext, clock=clock) is None


def test_unknown_and_malformed_keys_fail(session: Session, clock: ManualClock) -> None:
    for candidate in ("", "cpk_", "Bearer x", "cpk_000000000000_" + "a" * 43, "x" * 500):
        assert api_keys.authenticate(session, candidate, clock=clock) is None


def test_last_used_is_written_at_most_once_a_minute(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    created = api_keys.create_api_key(session, new_account(), name="CI", role="admin")
    key_id = created.api_key.id

    def last_used() -> dt.datetime | None:
        return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))

    first = clock.now()
    api_keys.authenticate(session, created.plaintext, clock=clock)
    assert last_used() == first
    clock.advance(dt.timedelta(seconds=30))
    api_keys.authenticate(session, created.plaintext, clock=clock)
    assert last_used() == first
    clock.advance(dt.timedelta(seconds=31))
    api_keys.authenticate(session, created.plaintext, clock=clock)
    assert last_used() == clock.now()


def test_a_recently_used_key_costs_one_select_and_no_update(
    session: Session, new_account: NewAccount, clock: ManualClock, statements_sent: StatementsSent
) -> None:
    created = api_keys.create_api_key(session, new_account(), name="CI", role="admin")
    api_keys.authenticate(session, created.plaintext, clock=clock)  # writes last_used_at
    with statements_sent(session) as sent:
        clock.advance(dt.timedelta(seconds=59))
        assert api_keys.authenticate(session, created.plaintext, clock=clock) is not None
        assert [s.split()[0] for s in sent] == ["SELECT"]
        clock.advance(dt.timedelta(seconds=2))
        assert api_keys.authenticate(session, created.plaintext, clock=clock) is not None
        assert [s.split()[0] for s in sent] == ["SELECT", "SELECT", "UPDATE"]


def test_list_keys_of_the_account(session: Session, new_account: NewAccount) -> None:
    account_id = new_account()
    names = [
        api_keys.create_api_key(session, account_id, name=n, role="member").api_key.name
        for n in ("a", "b")
    ]
    api_keys.create_api_key(session, new_account(), name="other", role="member")
    assert [k.name for k in api_keys.list_api_keys(session, account_id)] == names


@pytest.mark.parametrize(
    ("creator", "refused", "allowed"),
    [("admin", ["owner"], ["admin", "member"]), ("member", ["owner", "admin"], ["member"])],
)
def test_a_key_cannot_exceed_its_creators_role(
    session: Session,
    new_account: NewAccount,
    creator: Role,
    refused: list[Role],
    allowed: list[Role],
) -> None:
    account_id = new_account()
    actor = Actor(account_id=account_id, role=creator, member_id=None, api_key_id=None)
    for role in refused:
        with pytest.raises(PermissionDenied) as caught:
            api_keys.create_api_key(session, account_id, name="up", role=role, actor=actor)
        assert caught.value.required_role == role
    assert api_keys.list_api_keys(session, account_id) == []
    for role in allowed:
        created = api_keys.create_api_key(session, account_id, name="ok", role=role, actor=actor)
        assert created.api_key.role == role
    # An operator (no actor) is not restricted.
    assert api_keys.create_api_key(session, account_id, name="op", role="owner").api_key.role == (
        "owner"
    )
