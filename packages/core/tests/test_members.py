"""Members, roles, seats, and the last owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from counterpromo_core import accounts, api_keys, members
from counterpromo_core.db.models import AuditEvent
from counterpromo_core.errors import Conflict, LimitExceeded, PermissionDenied, ValidationFailed
from counterpromo_core.ports import ManualClock
from counterpromo_core.roles import Actor, Role, require_role
from sqlalchemy import select
from sqlalchemy.orm import Session

NewAccount = Callable[..., uuid.UUID]


def _owner(session: Session, account_id: uuid.UUID) -> uuid.UUID:
    return next(m.id for m in members.list_members(session, account_id) if m.role == "owner")


def test_new_account_has_its_owner(session: Session) -> None:
    account = accounts.create_account(
        session, name=" Acme ", owner_email="Boss@Acme.TEST", currency="gbp", locale="en-gb"
    )
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


def _actor(account_id: uuid.UUID, role: Role) -> Actor:
    return Actor(account_id=account_id, role=role, member_id=None, api_key_id=None)


def _roles(session: Session, account_id: uuid.UUID) -> dict[str, str]:
    return {m.email: m.role for m in members.list_members(session, account_id)}


def test_only_an_owner_may_add_an_owner(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("pro")
    admin = _actor(account_id, "admin")
    with pytest.raises(PermissionDenied) as caught:
        members.add_member(session, account_id, email="b@acme.test", role="owner", actor=admin)
    assert caught.value.required_role == "owner"
    assert "b@acme.test" not in _roles(session, account_id)
    members.add_member(session, account_id, email="a@acme.test", role="admin", actor=admin)
    owner = _actor(account_id, "owner")
    members.add_member(session, account_id, email="b@acme.test", role="owner", actor=owner)
    members.add_member(session, account_id, email="c@acme.test", role="owner")  # operator
    roles = _roles(session, account_id)
    assert (roles["a@acme.test"], roles["b@acme.test"], roles["c@acme.test"]) == (
        "admin",
        "owner",
        "owner",
    )


def test_only_an_owner_may_grant_or_take_the_owner_role(
    session: Session, new_account: NewAccount
) -> None:
    account_id = new_account("pro")
    owner_id = _owner(session, account_id)
    staff = members.add_member(session, account_id, email="s@acme.test", role="member")
    admin = _actor(account_id, "admin")
    with pytest.raises(PermissionDenied):
        members.change_role(session, account_id, staff.id, "owner", actor=admin)
    second = members.add_member(session, account_id, email="o2@acme.test", role="owner")
    with pytest.raises(PermissionDenied):  # demoting an owner, even with another owner left
        members.change_role(session, account_id, second.id, "admin", actor=admin)
    assert _roles(session, account_id)["s@acme.test"] == "member"
    assert _roles(session, account_id)["o2@acme.test"] == "owner"
    # An admin may still change roles that do not involve owner.
    assert members.change_role(session, account_id, staff.id, "admin", actor=admin).role == "admin"
    owner = _actor(account_id, "owner")
    members.change_role(session, account_id, staff.id, "owner", actor=owner)
    members.change_role(session, account_id, second.id, "member", actor=owner)
    members.change_role(session, account_id, owner_id, "admin")  # operator
    roles = _roles(session, account_id)
    assert (roles["s@acme.test"], roles["o2@acme.test"]) == ("owner", "member")


def test_only_an_owner_may_remove_an_owner(session: Session, new_account: NewAccount) -> None:
    account_id = new_account("pro")
    second = members.add_member(session, account_id, email="o2@acme.test", role="owner")
    third = members.add_member(session, account_id, email="o3@acme.test", role="owner")
    staff = members.add_member(session, account_id, email="s@acme.test", role="member")
    admin = _actor(account_id, "admin")
    with pytest.raises(PermissionDenied):
        members.remove_member(session, account_id, second.id, actor=admin)
    assert "o2@acme.test" in _roles(session, account_id)
    members.remove_member(session, account_id, staff.id, actor=admin)
    members.remove_member(session, account_id, second.id, actor=_actor(account_id, "owner"))
    members.remove_member(session, account_id, third.id)  # operator
    assert list(_roles(session, account_id).values()) == ["owner"]  # the first owner alone
