"""Promos: list, create, read, update (If-Match), duplicate, archive/restore, delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from counterpromo_core import promos
from counterpromo_core.db.models import Promo
from counterpromo_core.pagination import MAX_PAGE_SIZE
from counterpromo_core.schemas import PromoCreate, PromoPatch
from fastapi import Query, Request, Response, status

from counterpromo_api.auth import AnyMember, Db
from counterpromo_api.dependencies import ExpectedVersion, Idempotent, etag
from counterpromo_api.problems import error_responses
from counterpromo_api.responses import PageOut, PromoOut, PromoSummaryOut, model_response
from counterpromo_api.routing import api_router, url_for
from counterpromo_api.services import services_of

router = api_router(prefix="/promos", tags=["promos"])
PromoPage = PageOut[PromoSummaryOut]

ETAG_HEADER = {
    "ETag": {"description": 'The promo\'s version, `W/"<version>"`.', "schema": {"type": "string"}}
}
CREATED_HEADERS = {
    **ETAG_HEADER,
    "Location": {"description": "The new promo's URL.", "schema": {"type": "string"}},
}


def promo_out(promo: Promo, response: Response) -> PromoOut:
    response.headers["ETag"] = etag(promo.version)
    return PromoOut.model_validate(promo)


@router.get("", summary="List promos, newest first (cursor pagination)", response_model=PromoPage)
def list_promos(
    actor: AnyMember,
    session: Db,
    status_: Annotated[Literal["draft", "ready", "archived"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    page = promos.list_promos(session, actor.account_id, status=status_, limit=limit, cursor=cursor)
    return model_response(
        PromoPage(
            items=[PromoSummaryOut.model_validate(p) for p in page.items],
            next_cursor=page.next_cursor,
        )
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a promo (counts one promos_created)",
    dependencies=[Idempotent],
    responses={
        201: {"headers": CREATED_HEADERS},
        **error_responses(402, 409),
    },
)
def create_promo(
    body: PromoCreate, actor: AnyMember, session: Db, request: Request, response: Response
) -> PromoOut:
    promo = promos.create_promo(session, actor.account_id, body, clock=services_of(request).clock)
    response.headers["Location"] = url_for(request, "get_promo", promo_id=promo.id)
    return promo_out(promo, response)


@router.get("/{promo_id}", responses={200: {"headers": ETAG_HEADER}})
def get_promo(promo_id: uuid.UUID, actor: AnyMember, session: Db, response: Response) -> PromoOut:
    return promo_out(promos.get_promo(session, actor.account_id, promo_id), response)


@router.patch(
    "/{promo_id}",
    summary="Change a promo's fields (If-Match for optimistic concurrency)",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(412)},
)
def update_promo(
    promo_id: uuid.UUID,
    *,
    body: PromoPatch,
    expected_version: ExpectedVersion,
    actor: AnyMember,
    session: Db,
    response: Response,
) -> PromoOut:
    promo = promos.update_promo(
        session, actor.account_id, promo_id, body, expected_version=expected_version
    )
    return promo_out(promo, response)


@router.post(
    "/{promo_id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    summary="Copy a promo and its items (counts one promos_created)",
    dependencies=[Idempotent],
    responses={201: {"headers": CREATED_HEADERS}, **error_responses(402, 409)},
)
def duplicate_promo(
    promo_id: uuid.UUID, actor: AnyMember, session: Db, request: Request, response: Response
) -> PromoOut:
    copy = promos.duplicate_promo(
        session, actor.account_id, promo_id, clock=services_of(request).clock
    )
    response.headers["Location"] = url_for(request, "get_promo", promo_id=copy.id)
    return promo_out(copy, response)


@router.post(
    "/{promo_id}/archive",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(409, 412)},
)
def archive_promo(
    promo_id: uuid.UUID,
    expected_version: ExpectedVersion,
    actor: AnyMember,
    session: Db,
    response: Response,
) -> PromoOut:
    promo = promos.archive_promo(
        session, actor.account_id, promo_id, expected_version=expected_version
    )
    return promo_out(promo, response)


@router.post(
    "/{promo_id}/restore",
    summary="Bring an archived promo back as a draft",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(409, 412)},
)
def restore_promo(
    promo_id: uuid.UUID,
    expected_version: ExpectedVersion,
    actor: AnyMember,
    session: Db,
    response: Response,
) -> PromoOut:
    promo = promos.restore_promo(
        session, actor.account_id, promo_id, expected_version=expected_version
    )
    return promo_out(promo, response)


@router.delete("/{promo_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_promo(promo_id: uuid.UUID, actor: AnyMember, session: Db) -> Response:
    promos.delete_promo(session, actor.account_id, promo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
