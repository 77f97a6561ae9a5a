"""Validated inputs of the use-cases; the API uses the same models as request bodies."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_ITEMS_PER_PROMO = 200
FONTS = (
    "Inter",
    "Roboto",
    "Open Sans",
    "Lato",
    "Montserrat",
    "Source Sans 3",
    "Libertinus Serif",
    "DejaVu Sans",
)

Template = Literal["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]
Font = Literal[
    "Inter",
    "Roboto",
    "Open Sans",
    "Lato",
    "Montserrat",
    "Source Sans 3",
    "Libertinus Serif",
    "DejaVu Sans",
]
EditableStatus = Literal["draft", "ready"]

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class _Patch(_Input):
    """A partial update: only the fields set are changed; some fields cannot be cleared."""

    not_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> Self:
        cleared = [
            f for f in self.not_nullable if f in self.model_fields_set and getattr(self, f) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ItemIn(_Input):
    """One product line of a promo."""

    sku: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=300)]
    sale_price: Money | None = None
    rrp: Money | None = None
    unit: Annotated[str, Field(max_length=50)] | None = None
    category: Annotated[str, Field(max_length=100)] | None = None
    vendor: Annotated[str, Field(max_length=200)] | None = None
    image_asset_id: uuid.UUID | None = None
    coop_vendor: Annotated[str, Field(max_length=200)] | None = None
    coop_amount: Money | None = None
    coop_note: Annotated[str, Field(max_length=500)] | None = None


class ItemPatch(_Patch):
    """Fields to change on an item; only the fields set are changed (null clears one)."""

    sku: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    not_nullable = ("name",)

    name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    sale_price: Money | None = None
    rrp: Money | None = None
    unit: Annotated[str, Field(max_length=50)] | None = None
    category: Annotated[str, Field(max_length=100)] | None = None
    vendor: Annotated[str, Field(max_length=200)] | None = None
    image_asset_id: uuid.UUID | None = None
    coop_vendor: Annotated[str, Field(max_length=200)] | None = None
    coop_amount: Money | None = None
    coop_note: Annotated[str, Field(max_length=500)] | None = None


class PromoCreate(_Input):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    subhead: Annotated[str, Field(max_length=300)] | None = None
    cta: Annotated[str, Field(max_length=200)] | None = None
    template: Template = "multi-product"
    items: Annotated[list[ItemIn], Field(max_length=MAX_ITEMS_PER_PROMO)] = []


class PromoPatch(_Patch):
    """Fields to change on a promo; only the fields set are changed.

    ``status`` moves a promo between draft and ready; archiving has its own use-case.
    """

    not_nullable = ("title", "template", "status")

    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    subhead: Annotated[str, Field(max_length=300)] | None = None
    cta: Annotated[str, Field(max_length=200)] | None = None
    template: Template | None = None
    status: EditableStatus | None = None


class BrandKitIn(_Input):
    primary_color: HexColor | None = None
    secondary_color: HexColor | None = None
    accent_color: HexColor | None = None
    font: Font | None = None
    strapline: Annotated[str, Field(max_length=300)] | None = None
    default_cta: Annotated[str, Field(max_length=200)] | None = None
    logo_asset_id: uuid.UUID | None = None


class BranchIn(_Input):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(max_length=500)] | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None


__all__ = [
    "FONTS",
    "MAX_ITEMS_PER_PROMO",
    "BranchIn",
    "BrandKitIn",
    "ItemIn",
    "ItemPatch",
    "PromoCreate",
    "PromoPatch",
    "Template",
]
