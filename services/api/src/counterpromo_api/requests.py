"""Request bodies the API adds to core's input models (``counterpromo_core.schemas``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from counterpromo_core.roles import Role
from counterpromo_core.schemas import MAX_ITEMS_PER_PROMO, ItemIn
from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class AccountUpdate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    currency: Annotated[str, Field(min_length=1, max_length=10)] | None = Field(
        default=None, description="ISO 4217 code the account's prices are in, e.g. `USD`."
    )
    locale: Annotated[str, Field(min_length=1, max_length=35)] | None = Field(
        default=None, description="BCP 47 locale prices are written in, e.g. `en-US`, `fr-CA`."
    )


class MemberCreate(_Body):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    role: Role = "member"
    external_subject: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="The OIDC subject (`sub`) this member signs in as."
    )


class RoleChange(_Body):
    role: Role


class ApiKeyCreate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Role = Field(default="member", description="At most the creating key's own role.")


class ItemsReplace(_Body):
    items: Annotated[list[ItemIn], Field(max_length=MAX_ITEMS_PER_PROMO)]


class ItemOrder(_Body):
    item_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_ITEMS_PER_PROMO)] = Field(
        description="Every item id of the promo, in the new order."
    )


class RenderRequest(_Body):
    branch_pack: bool = Field(
        default=False, description="One output set per branch (plan feature `branch_packs`)."
    )
    paper: Literal["A4", "Letter"] = "A4"


class UploadCreate(_Body):
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=1, max_length=100)]
    promo_id: uuid.UUID | None = Field(
        default=None, description="The promo the parsed items go to."
    )


class ParseRequest(_Body):
    mode: Literal["append", "replace"] = "append"
    mapping: (
        dict[
            Annotated[str, Field(min_length=1, max_length=100)],
            Annotated[str, Field(min_length=1, max_length=100)],
        ]
        | None
    ) = Field(
        default=None,
        max_length=50,
        description="Spreadsheet column -> item field, where the headers are not ours.",
    )


class CheckoutRequest(_Body):
    plan_code: Annotated[str, Field(min_length=1, max_length=32)]
