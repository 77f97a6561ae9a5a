"""The account's brand kit and its branches."""

from __future__ import annotations

import uuid

from counterpromo_core import branches, brand
from counterpromo_core.schemas import BranchIn, BrandKitIn
from fastapi import Request, Response, status

from counterpromo_api.auth import Admin, AnyMember, Db
from counterpromo_api.problems import error_responses
from counterpromo_api.responses import BranchOut, BrandKitOut
from counterpromo_api.routing import api_router, url_for

router = api_router(tags=["brand kit and branches"])


@router.get("/brand-kit", summary="The brand kit (all fields null until one is saved)")
def get_brand_kit(actor: AnyMember, session: Db) -> BrandKitOut:
    kit = brand.get_brand_kit(session, actor.account_id)
    return BrandKitOut() if kit is None else BrandKitOut.model_validate(kit)


@router.put("/brand-kit", summary="Save the brand kit (admin)")
def put_brand_kit(body: BrandKitIn, actor: Admin, session: Db) -> BrandKitOut:
    return BrandKitOut.model_validate(brand.put_brand_kit(session, actor.account_id, body))


@router.get("/branches")
def list_branches(actor: AnyMember, session: Db) -> list[BranchOut]:
    return [BranchOut.model_validate(b) for b in branches.list_branches(session, actor.account_id)]


@router.post(
    "/branches",
    status_code=status.HTTP_201_CREATED,
    summary="Add a branch (admin; counts against the plan's max_branches)",
    responses={
        201: {
            "headers": {
                "Location": {"description": "The branch's URL.", "schema": {"type": "string"}}
            }
        },
        **error_responses(402, 409),
    },
)
def create_branch(
    body: BranchIn, actor: Admin, session: Db, request: Request, response: Response
) -> BranchOut:
    branch = branches.create_branch(session, actor.account_id, body)
    response.headers["Location"] = url_for(request, "get_branch", branch_id=branch.id)
    return BranchOut.model_validate(branch)


@router.get("/branches/{branch_id}")
def get_branch(branch_id: uuid.UUID, actor: AnyMember, session: Db) -> BranchOut:
    return BranchOut.model_validate(branches.get_branch(session, actor.account_id, branch_id))


@router.put(
    "/branches/{branch_id}", summary="Change a branch (admin)", responses=error_responses(409)
)
def update_branch(branch_id: uuid.UUID, body: BranchIn, actor: Admin, session: Db) -> BranchOut:
    return BranchOut.model_validate(
        branches.update_branch(session, actor.account_id, branch_id, body)
    )


@router.delete(
    "/branches/{branch_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a branch (admin)",
)
def delete_branch(branch_id: uuid.UUID, actor: Admin, session: Db) -> Response:
    branches.delete_branch(session, actor.account_id, branch_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
