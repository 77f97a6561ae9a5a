"""Outputs of the worker: list per promo, download through a short-lived presigned GET."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from counterpromo_core import assets
from fastapi import Request, status
from fastapi.responses import RedirectResponse

from counterpromo_api.auth import AnyMember, Db
from counterpromo_api.problems import error_responses
from counterpromo_api.responses import AssetOut
from counterpromo_api.routing import api_router
from counterpromo_api.services import services_of

router = api_router(tags=["assets"])

DOWNLOAD_SECONDS = 300


@router.get("/promos/{promo_id}/assets", summary="The promo's outputs (PDFs, previews, bundles)")
def list_assets(promo_id: uuid.UUID, actor: AnyMember, session: Db) -> list[AssetOut]:
    return [
        AssetOut.model_validate(a) for a in assets.list_assets(session, actor.account_id, promo_id)
    ]


@router.get("/assets/{asset_id}")
def get_asset(asset_id: uuid.UUID, actor: AnyMember, session: Db) -> AssetOut:
    return AssetOut.model_validate(assets.get_asset(session, actor.account_id, asset_id))


@router.get(
    "/assets/{asset_id}/download",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    summary=f"Redirect to a presigned download URL, valid {DOWNLOAD_SECONDS} s",
    responses={
        302: {
            "description": "Follow `Location` to download the file.",
            "headers": {
                "Location": {"description": "The presigned URL.", "schema": {"type": "string"}}
            },
        },
        **error_responses(),
    },
)
def download_asset(
    asset_id: uuid.UUID, actor: AnyMember, session: Db, request: Request
) -> RedirectResponse:
    asset = assets.get_asset(session, actor.account_id, asset_id)
    blobs = services_of(request).blobs
    # Adopted assets keep the original application's keys, outside our account prefix.
    store = (
        blobs if assets.keeps_original_key(session, asset) else blobs.for_account(actor.account_id)
    )
    url = store.presigned_get(
        asset.bucket,
        asset.key,
        filename=PurePosixPath(asset.key).name,
        expires=DOWNLOAD_SECONDS,
    )
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)
