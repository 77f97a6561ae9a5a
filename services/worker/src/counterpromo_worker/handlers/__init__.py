"""The job handlers, one module per job type."""

from __future__ import annotations

from counterpromo_worker.handlers import (
    coop_report,
    export_bundle,
    parse_upload,
    process_image,
    render_promo,
)
from counterpromo_worker.runtime.registry import HandlerRegistry


def default_registry() -> HandlerRegistry:
    """The production handlers for every job type."""
    registry = HandlerRegistry()
    registry.register("parse_upload", parse_upload.run, on_failure=parse_upload.on_failure)
    registry.register("render_promo", render_promo.run)
    registry.register("export_bundle", export_bundle.run)
    registry.register("coop_report", coop_report.run)
    registry.register("process_image", process_image.run, on_failure=process_image.on_failure)
    return registry


__all__ = ["default_registry"]
