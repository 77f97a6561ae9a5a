"""Who is calling: an API key (``cpk_...``) or, when configured, an OIDC JWT.

Another account's object is a 404 (the use-cases filter on the actor's
account), so nothing here ever reveals whether an id exists.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from counterpromo_core import api_keys, members
from counterpromo_core.roles import Actor, parse_role, require_role
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from counterpromo_api.problems import ApiProblem, unauthorized
from counterpromo_api.services import Services, services_of
from counterpromo_api.transaction import db_session

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description=(
        "`Authorization: Bearer <token>` with an API key (`cpk_...`) or, where OIDC is "
        "configured, an access token (JWT) from the identity provider."
    ),
)

# Read as text and parsed after the credentials are checked: a malformed value on an
# unauthenticated request is a 401, not a 422 (authentication comes before other headers).
AccountHeader = Annotated[
    str | None,
    Header(
        alias="X-Account-Id",
        description="The account to act on, for an OIDC identity that belongs to several "
        "accounts. With an API key it may be omitted; if given it must be the key's account.",
        json_schema_extra={"format": "uuid"},
    ),
]


def _account_id(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise ApiProblem(
            400, "bad-account-id", "X-Account-Id must be an account id (a UUID)"
        ) from None


def _from_api_key(
    session: Session, services: Services, token: str, account_id: uuid.UUID | None
) -> Actor:
    actor = api_keys.authenticate(session, token, clock=services.clock)
    if actor is None:
        raise unauthorized("the API key is unknown or revoked")
    if account_id is not None and account_id != actor.account_id:
        raise ApiProblem(403, "wrong-account", "X-Account-Id is not the account of this API key")
    return actor


def _from_jwt(
    session: Session, services: Services, token: str, account_id: uuid.UUID | None
) -> Actor:
    if services.oidc is None:
        raise unauthorized("the bearer token is not an API key")
    subject = services.oidc.subject(token)
    memberships = members.members_for_subject(session, subject)
    if not memberships:
        raise ApiProblem(403, "no-membership", "this identity is not a member of any account")
    if account_id is None:
        if len(memberships) > 1:
            raise ApiProblem(
                400,
                "account-required",
                "this identity belongs to several accounts: name one with X-Account-Id",
            )
        member = memberships[0]
    else:
        chosen = [m for m in memberships if m.account_id == account_id]
        if not chosen:
            raise ApiProblem(
                403, "wrong-account", "this identity is not a member of the X-Account-Id account"
            )
        member = chosen[0]
    return Actor(
        account_id=member.account_id,
        role=parse_role(member.role),
        member_id=member.id,
        api_key_id=None,
    )


def current_actor(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    account_header: AccountHeader = None,
) -> Actor:
    if credentials is None:
        raise unauthorized("send Authorization: Bearer <API key or token>")
    account_id = _account_id(account_header)
    services = services_of(request)
    token = credentials.credentials.strip()
    if token.startswith(api_keys.KEY_PREFIX):
        actor = _from_api_key(session, services, token, account_id)
    else:
        actor = _from_jwt(session, services, token, account_id)
    request.state.account_id = actor.account_id
    return actor


def _admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    require_role(actor, "admin")
    return actor


def _owner(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    require_role(actor, "owner")
    return actor


AnyMember = Annotated[Actor, Depends(current_actor)]
Admin = Annotated[Actor, Depends(_admin)]
Owner = Annotated[Actor, Depends(_owner)]
Db = Annotated[Session, Depends(db_session)]
