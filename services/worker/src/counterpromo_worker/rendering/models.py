"""The renderer's inputs and outputs: plain data, no database or AWS objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

TemplateName = Literal["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]
Paper = Literal["A4", "Letter"]


class RenderItem(BaseModel):
    name: str
    sku: str | None = None
    sale_price: Decimal | None = None
    rrp: Decimal | None = None
    unit: str | None = None
    category: str | None = None
    vendor: str | None = None
    image: bytes | None = None  # PNG or JPEG bytes
    coop_vendor: str | None = None


class RenderBrand(BaseModel):
    primary_color: str = "#C8102E"
    secondary_color: str = "#1A1A1A"
    accent_color: str = "#FFD100"
    font: str | None = None
    strapline: str | None = None
    logo: bytes | None = None  # PNG or JPEG bytes


class RenderBranch(BaseModel):
    name: str
    address: str | None = None
    phone: str | None = None


class RenderInput(BaseModel):
    title: str
    subhead: str | None = None
    cta: str | None = None
    template: TemplateName
    items: list[RenderItem]
    brand: RenderBrand
    branch: RenderBranch | None = None
    watermark: bool = False
    paper: Paper = "A4"
    # The account's money (counterpromo_core.money): no default a dealer did not choose.
    currency: str  # ISO 4217, e.g. "USD"
    locale: str  # BCP 47, e.g. "en-US"


class RenderOutput(BaseModel):
    pdf: bytes
    png: bytes  # page 1 only
    png_width: int
    png_height: int
    page_count: int


class RenderError(Exception):
    """The promo cannot be rendered as given; the message says why, in words a user understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
