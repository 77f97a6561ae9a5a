"""The caller's account, its members and its API keys."""

from __future__ import annotations

import uuid

from counterpromo_core import accounts, api_keys, members
from fastapi import Request, Response, status

from counterpromo_api.auth import Admin, AnyMember, Db
from counterpromo_api.problems import error_responses
from counterpromo_api.requests import AccountUpdate, ApiKeyCreate, MemberCreate, RoleChange
from counterpromo_api.responses import AccountOut, ApiKeyCreatedOut, ApiKeyOut, MemberOut
from counterpromo_api.routing import api_router

router = api_router(tags=["account"])


@router.get("/account")
def get_account(actor: AnyMember, session: Db) -> AccountOut:
    return AccountOut.model_validate(accounts.get_account(session, actor.account_id))


@router.patch(
    "/account",
    summary="Change the account's name, currency or locale (admin)",
    description="Only the fields sent change. `currency` must be an ISO 4217 code and "
    "`locale` a BCP 47 tag that CLDR knows; otherwise a 422 names the field.",
)
def update_account(body: AccountUpdate, actor: Admin, session: Db) -> AccountOut:
    changed = accounts.update_account(
        session, actor.account_id, name=body.name, currency=body.currency, locale=body.locale
    )
    return AccountOut.model_validate(changed)


@router.get("/members", tags=["members"])
def list_members(actor: AnyMember, session: Db) -> list[MemberOut]:
    return [MemberOut.model_validate(m) for m in members.list_members(session, actor.account_id)]


@router.post(
    "/members",
    tags=["members"],
    status_code=status.HTTP_201_CREATED,
    summary="Add a member (admin; owner to add an owner)",
    responses=error_responses(402, 409),
)
def add_member(body: MemberCreate, actor: Admin, session: Db) -> MemberOut:
    member = members.add_member(
        session,
        actor.account_id,
        email=body.email,
        role=body.role,
        external_subject=body.external_subject,
        actor=actor,
    )
    return MemberOut.model_validate(member)


@router.patch(
    "/members/{member_id}",
    tags=["members"],
    summary="Change a member's role (admin; owner when an owner is involved)",
    responses=error_responses(409),
)
def change_member_role(
    member_id: uuid.UUID, body: RoleChange, actor: Admin, session: Db
) -> MemberOut:
    return MemberOut.model_validate(
        members.change_role(session, actor.account_id, member_id, body.role, actor=actor)
    )


@router.delete(
    "/members/{member_id}",
    tags=["members"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (admin; owner to remove an owner)",
    responses=error_responses(409),
)
def remove_member(member_id: uuid.UUID, actor: Admin, session: Db) -> Response:
    members.remove_member(session, actor.account_id, member_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api-keys", tags=["api keys"], summary="List API keys (admin)")
def list_api_keys(actor: Admin, session: Db) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in api_keys.list_api_keys(session, actor.account_id)]


@router.post(
    "/api-keys",
    tags=["api keys"],
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (admin); the key is in this response only",
)
def create_api_key(
    body: ApiKeyCreate, actor: Admin, session: Db, request: Request, response: Response
) -> ApiKeyCreatedOut:
    created = api_keys.create_api_key(
        session,
        actor.account_id,
        name=body.name,
        role=body.role,
        member_id=actor.member_id,
        actor=actor,
    )
    response.headers["Cache-Control"] = "no-store"
    out = ApiKeyOut.model_validate(created.api_key)
    return ApiKeyCreatedOut(**out.model_dump(), key=created.plaintext)


@router.delete(
    "/api-keys/{key_id}",
    tags=["api keys"],
    summary="Revoke an API key (admin; owner for an owner's key)",
)
def revoke_api_key(key_id: uuid.UUID, actor: Admin, session: Db) -> ApiKeyOut:
    revoked = api_keys.revoke_api_key(session, actor.account_id, key_id, actor=actor)
    return ApiKeyOut.model_validate(revoked)
