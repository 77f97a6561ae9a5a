"""A promo's items: replace all, add, change, delete, reorder."""

from __future__ import annotations

import uuid

from counterpromo_core import promos
from counterpromo_core.schemas import ItemIn, ItemPatch
from fastapi import Request, Response, status

from counterpromo_api.auth import AnyMember, Db
from counterpromo_api.dependencies import ExpectedVersion
from counterpromo_api.problems import error_responses
from counterpromo_api.requests import ItemOrder, ItemsReplace
from counterpromo_api.responses import ItemOut, PromoOut
from counterpromo_api.routes.promos import ETAG_HEADER, promo_out
from counterpromo_api.routing import api_router, url_for

router = api_router(prefix="/promos/{promo_id}/items", tags=["items"])


@router.put(
    "",
    summary="Replace every item (items whose SKU matches keep their id and co-op fields)",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(409, 412)},
)
def replace_items(
    promo_id: uuid.UUID,
    *,
    body: ItemsReplace,
    expected_version: ExpectedVersion,
    actor: AnyMember,
    session: Db,
    response: Response,
) -> PromoOut:
    promo = promos.replace_items(
        session, actor.account_id, promo_id, list(body.items), expected_version=expected_version
    )
    return promo_out(promo, response)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an item at the end",
    responses={
        201: {
            "headers": {
                "Location": {"description": "The promo's URL.", "schema": {"type": "string"}}
            }
        },
        **error_responses(409),
    },
)
def add_item(
    promo_id: uuid.UUID,
    *,
    body: ItemIn,
    actor: AnyMember,
    session: Db,
    request: Request,
    response: Response,
) -> ItemOut:
    item = promos.add_item(session, actor.account_id, promo_id, body)
    response.headers["Location"] = url_for(request, "get_promo", promo_id=promo_id)
    return ItemOut.model_validate(item)


@router.put(
    "/order",
    summary="Reorder the items (send every item id once)",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(409)},
)
def reorder_items(
    promo_id: uuid.UUID, body: ItemOrder, actor: AnyMember, session: Db, response: Response
) -> PromoOut:
    promo = promos.reorder_items(session, actor.account_id, promo_id, list(body.item_ids))
    return promo_out(promo, response)


@router.patch("/{item_id}", responses=error_responses(409))
def update_item(
    promo_id: uuid.UUID, item_id: uuid.UUID, body: ItemPatch, actor: AnyMember, session: Db
) -> ItemOut:
    item = promos.update_item(session, actor.account_id, promo_id, item_id, body)
    return ItemOut.model_validate(item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_item(promo_id: uuid.UUID, item_id: uuid.UUID, actor: AnyMember, session: Db) -> Response:
    promos.delete_item(session, actor.account_id, promo_id, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
