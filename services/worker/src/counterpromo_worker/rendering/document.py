"""Turns a RenderInput into the JSON document and picture files the Typst templates read.

Everything the templates print arrives as JSON strings, so product names that look
like Typst markup (``#import``, ``]``, ``$``, ``*bold*``) print as plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from counterpromo_core.schemas import MAX_ITEMS_PER_PROMO

from counterpromo_worker.rendering.fonts import font_stack
from counterpromo_worker.rendering.images import image_extension
from counterpromo_worker.rendering.models import RenderError, RenderInput, RenderItem
from counterpromo_worker.rendering.money import format_money, price_labels, saving

WATERMARK_TEXT = "Counter Promo \u2014 FREE PLAN"
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PAPER = {"A4": "a4", "Letter": "us-letter"}


@dataclass
class TemplateDocument:
    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)  # root-relative path -> bytes


def build_document(data: RenderInput) -> TemplateDocument:
    if not data.items:
        raise RenderError("the promo has no items; add at least one product before rendering")
    if len(data.items) > MAX_ITEMS_PER_PROMO:
        raise RenderError(
            f"the promo has {len(data.items)} items; a flyer holds at most {MAX_ITEMS_PER_PROMO}"
        )
    colors = {
        "primary": data.brand.primary_color,
        "secondary": data.brand.secondary_color,
        "accent": data.brand.accent_color,
    }
    for role, value in colors.items():
        if not _HEX_COLOR.match(value):
            raise RenderError(f"the brand's {role} colour {value!r} is not a #RRGGBB colour")

    files: dict[str, bytes] = {}
    logo = None
    if data.brand.logo is not None:
        logo = _picture(files, "logo", data.brand.logo, "the brand logo")

    money = _Money(data.currency, data.locale)
    items = [_item(files, index, item, money) for index, item in enumerate(data.items)]
    branch = data.branch.model_dump() if data.branch is not None else None
    document = {
        "title": data.title,
        "subhead": data.subhead,
        "cta": data.cta,
        "paper": _PAPER[data.paper],
        "watermark": WATERMARK_TEXT if data.watermark else None,
        "brand": {
            **colors,
            "fonts": font_stack(data.brand.font),
            "strapline": data.brand.strapline,
            "logo": logo,
        },
        "branch": branch,
        "items": items,
        "vendors": _vendor_groups(items),
    }
    return TemplateDocument(data=document, files=files)


@dataclass(frozen=True)
class _Money:
    currency: str
    locale: str

    def __call__(self, amount: Decimal) -> str:
        return format_money(amount, self.currency, self.locale)


def _item(files: dict[str, bytes], index: int, item: RenderItem, money: _Money) -> dict[str, Any]:
    labels = price_labels(money.locale)
    image = None
    if item.image is not None:
        image = _picture(files, f"item-{index + 1}", item.image, f"the image of {item.name!r}")
    saved = saving(item.sale_price, item.rrp)
    return {
        "name": item.name,
        "sku": item.sku,
        "unit": item.unit,
        "category": item.category,
        "vendor": item.vendor,
        "coop_vendor": item.coop_vendor,
        "price": money(item.sale_price) if item.sale_price is not None else None,
        # The RRP is only worth printing (struck through) when it is above the sale price.
        "rrp": money(item.rrp) if saved is not None and item.rrp is not None else None,
        "rrp_label": labels.regular,  # "Reg.", "Was", "RRP"... by locale
        "save": f"{labels.save} {money(saved)}" if saved is not None else None,
        "no_price": labels.no_price,
        "image": image,
    }


def _picture(files: dict[str, bytes], stem: str, data: bytes, what: str) -> str:
    extension = image_extension(data)
    if extension is None:
        raise RenderError(f"{what} is not a PNG or JPEG picture")
    path = f"/img/{stem}.{extension}"
    files[path] = data
    return path


def _vendor_groups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items grouped by vendor in order of first appearance (for the vendor spotlight)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["vendor"], []).append(item)
    return [{"vendor": vendor or "More offers", "items": group} for vendor, group in groups.items()]
