"""Promo flyers: Typst templates rendered to a print PDF and a PNG preview."""

from counterpromo_worker.rendering.models import (
    RenderBranch,
    RenderBrand,
    RenderError,
    RenderInput,
    RenderItem,
    RenderOutput,
)
from counterpromo_worker.rendering.render import render_promo

__all__ = [
    "RenderBranch",
    "RenderBrand",
    "RenderError",
    "RenderInput",
    "RenderItem",
    "RenderOutput",
    "render_promo",
]
