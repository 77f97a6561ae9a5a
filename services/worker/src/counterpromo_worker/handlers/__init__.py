"""The job handlers, one module per job type."""

from __future__ import annotations

from counterpromo_worker.handlers import render_promo
from counterpromo_worker.runtime.registry import HandlerRegistry


def default_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("render_promo", render_promo.run)
    return registry


__all__ = ["default_registry"]
