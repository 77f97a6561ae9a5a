"""Members, roles, seats, and the last owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_core import accounts, api_keys, members
from counterpromo_core.db.models import AuditEvent
from counterpromo_core.errors import Conflict, LimitExceeded, PermissionDenied, ValidationFailed
from counterpromo_core.ports import ManualClock
from counterpromo_core.roles import Actor, require_role
from sqlalchemy import select
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]


def _owner(session: Session, account_id: uuid.UUID) -> uuid.UUID:
    return next(m.id for m in members.list_members(session, account_id) if m.role == "owner")


def test_new_account_has_its_owner(session: Session) -> None:
    account = accounts.create_account(session, name=" Acme ", owner_email="Boss@Acme.TEST")
    [owner] = members.list_members(session, account.id)
    assert (account.name, account.plan_code) == ("Acme", "free")
    assert (owner.email, owner.role) == ("boss@acme.test", "owner")


def test_seats_are_limited_by_the_plan(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("test-ten")  # 2 seats, the owner holds one
    members.add_member(session, account_id, email="a@acme.test", role="member")
    with pytest.raises(LimitExceeded) as caught:
        members.add_member(session, account_id, email="b@acme.test", role="member")
    assert (caught.value.metric, caught.value.limit, caught.value.used) == ("seats", 2, 2)


def test_duplicate_email_is_a_conflict(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("pro")
    members.add_member(session, account_id, email="a@acme.test", role="member")
    with pytest.raises(Conflict):
        members.add_member(session, account_id, email="A@acme.test", role="admin")


def test_last_owner_can_be_neither_demoted_nor_removed(
    session: Session, new_account: NewAccount
) -> None:
    account_id = new_account("pro")
    owner = _owner(session, account_id)
    with pytest.raises(Conflict):
        members.change_role(session, account_id, owner, "admin")
    with pytest.raises(Conflict):
        members.remove_member(session, account_id, owner)
    second = members.add_member(session, account_id, email="b@acme.test", role="owner")
    members.change_role(session, account_id, owner, "admin")
    with pytest.raises(Conflict):
        members.remove_member(session, account_id, second.id)
    members.remove_member(session, account_id, owner)
    assert [m.id for m in members.list_members(session, account_id)] == [second.id]


def test_bad_email_and_role_are_refused(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("pro")
    with pytest.raises(ValidationFailed):
        members.add_member(session, account_id, email="not-an-email", role="member")
    with pytest.raises(ValidationFailed):
        members.add_member(session, account_id, email="a@b.test", role="king")  # type: ignore[arg-type]


def test_members_for_subject_spans_accounts(session: Session, new_account: NewAccount) -> None:
    subject = f"oidc|{uuid.uuid4()}"
    first, second = new_account("pro"), new_account("pro")
    for account_id in (first, second):
        members.add_member(
            session, account_id, email="sam@acme.test", role="admin", external_subject=subject
        )
    assert {m.account_id for m in members.members_for_subject(session, subject)} == {first, second}


def test_require_role_orders_roles() -> None:
    actor = Actor(account_id=uuid.uuid4(), role="admin", member_id=None, api_key_id=None)
    require_role(actor, "member")
    require_role(actor, "admin")
    with pytest.raises(PermissionDenied) as caught:
        require_role(actor, "owner")
    assert caught.value.required_role == "owner"


def test_support_sets_a_plan_with_an_audit_trail(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("free")
    account = accounts.set_plan_by_support(
        session, account_id, "pro", actor="support@counterpromo", reason="ticket 42"
    )
    assert account.plan.code == "pro"
    event = session.scalar(select(AuditEvent).where(AuditEvent.account_id == account_id))
    assert event is not None
    assert event.detail == {"from": "free", "to": "pro", "reason": "ticket 42"}
    with pytest.raises(ValidationFailed):
        accounts.set_plan_by_support(session, account_id, "platinum", actor="s", reason="r")


def test_rename_and_list_accounts(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("free", name="Old")
    assert accounts.rename_account(session, account_id, "New").name == "New"
    with pytest.raises(ValidationFailed):
        accounts.rename_account(session, account_id, "   ")
    page = accounts.list_accounts(session, limit=1)
    assert len(page.items) == 1
    assert page.next_cursor is not None


def test_removing_a_member_revokes_their_keys(
    session: Session, new_account: NewAccount, clock: ManualClock
) -> None:
    account_id = new_account("pro")
    member = members.add_member(session, account_id, email="m@acme.test", role="member")
    key = api_keys.create_api_key(session, account_id, name="m", role="member", member_id=member.id)
    assert api_keys.authenticate(session, key.plaintext, clock=clock) is not None
    members.remove_member(session, account_id, member.id)
    assert api_keys.authenticate(session, key.plaintext, clock=clock) is None
