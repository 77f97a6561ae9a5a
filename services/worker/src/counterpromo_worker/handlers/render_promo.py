"""``render_promo``: the promo's flyer as a print PDF and a PNG preview, one set per branch.

Usage was counted when the render was requested (``work.request_render``), so
this handler never counts it again; the watermark decision was fixed then too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from counterpromo_core import accounts, assets, branches, brand, promos, usage
from counterpromo_core.db.models import Account, Branch, BrandKit, Promo
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from counterpromo_worker.handlers.outputs import (
    StoredOutput,
    output_key,
    record_outputs,
    store_output,
)
from counterpromo_worker.rendering import (
    RenderBranch,
    RenderBrand,
    RenderError,
    RenderInput,
    RenderItem,
)
from counterpromo_worker.rendering.pool import RenderTimedOut
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.errors import PermanentJobError

PREVIEW_PPI = 96
MAIN_SET = "main"


class RenderJob(BaseModel):
    """The job payload written by ``work.request_render``."""

    model_config = ConfigDict(extra="ignore")

    branch_ids: list[uuid.UUID] = []
    paper: Literal["A4", "Letter"] = "A4"
    watermark: bool | None = None


@dataclass(frozen=True)
class _Snapshot:
    """What the render reads from the database, taken in one short transaction."""

    account: Account
    promo: Promo
    kit: BrandKit | None
    branches: list[Branch]
    watermark: bool
    pictures: dict[uuid.UUID, tuple[str, str]]  # asset id -> (bucket, key)


def _snapshot(session: Session, ctx: JobContext, job: RenderJob) -> _Snapshot:
    account = accounts.get_account(session, ctx.account_id)
    promo = promos.get_promo(session, ctx.account_id, ctx.require_promo_id())
    kit = brand.get_brand_kit(session, ctx.account_id)
    rows = [branches.get_branch(session, ctx.account_id, b) for b in job.branch_ids]
    watermark = job.watermark
    if watermark is None:
        watermark = usage.entitlements(session, ctx.account_id).watermark
    wanted = {item.image_asset_id for item in promo.items if item.image_asset_id is not None}
    if kit is not None and kit.logo_asset_id is not None:
        wanted.add(kit.logo_asset_id)
    pictures = {}
    for asset_id in wanted:
        asset = assets.get_asset(session, ctx.account_id, asset_id)
        pictures[asset_id] = (asset.bucket, asset.key)
    return _Snapshot(account, promo, kit, rows, watermark, pictures)


def _render_input(
    snap: _Snapshot, pictures: dict[uuid.UUID, bytes], job: RenderJob, branch: Branch | None
) -> RenderInput:
    promo, kit = snap.promo, snap.kit
    colours: dict[str, Any] = {}
    if kit is not None:
        colours = {
            name: getattr(kit, name)
            for name in ("primary_color", "secondary_color", "accent_color")
            if getattr(kit, name) is not None
        }
    return RenderInput(
        title=promo.title,
        subhead=promo.subhead,
        cta=promo.cta or (kit.default_cta if kit else None),
        template=promo.template,
        items=[
            RenderItem(
                name=item.name,
                sku=item.sku,
                sale_price=item.sale_price,
                rrp=item.rrp,
                unit=item.unit,
                category=item.category,
                vendor=item.vendor,
                image=pictures.get(item.image_asset_id) if item.image_asset_id else None,
                coop_vendor=item.coop_vendor,
            )
            for item in promo.items
        ],
        brand=RenderBrand(
            **colours,
            font=kit.font if kit else None,
            strapline=kit.strapline if kit else None,
            logo=pictures.get(kit.logo_asset_id) if kit and kit.logo_asset_id else None,
        ),
        branch=(
            RenderBranch(name=branch.name, address=branch.address, phone=branch.phone)
            if branch is not None
            else None
        ),
        watermark=snap.watermark,
        paper=job.paper,
        currency=snap.account.currency,
        locale=snap.account.locale,
    )


def run(ctx: JobContext) -> None:
    job = RenderJob.model_validate(ctx.payload)
    with ctx.sessions() as session:
        snap = _snapshot(session, ctx, job)
    pictures = {asset_id: ctx.blobs.get_bytes(*where) for asset_id, where in snap.pictures.items()}
    bucket = ctx.services.config.assets_bucket

    outputs: list[StoredOutput] = []
    sets: list[dict[str, Any]] = []
    targets: list[Branch | None] = [*snap.branches] or [None]
    for branch in targets:
        folder = str(branch.id) if branch is not None else MAIN_SET
        if ctx.time_left() <= 0:
            raise ctx.ran_out_of_time()
        try:
            rendered = ctx.services.renderer.render(
                _render_input(snap, pictures, job, branch),
                preview_ppi=PREVIEW_PPI,
                timeout=ctx.time_left(),
            )
        except RenderError as error:
            raise PermanentJobError(error.message) from error
        except RenderTimedOut as stopped:
            raise ctx.ran_out_of_time() from stopped
        branch_id = branch.id if branch is not None else None
        pdf = store_output(
            ctx,
            kind="pdf",
            bucket=bucket,
            key=output_key(ctx, folder, "promo.pdf"),
            data=rendered.pdf,
            content_type="application/pdf",
            branch_id=branch_id,
        )
        png = store_output(
            ctx,
            kind="png",
            bucket=bucket,
            key=output_key(ctx, folder, "preview.png"),
            data=rendered.png,
            content_type="image/png",
            branch_id=branch_id,
        )
        outputs += [pdf, png]
        sets.append(
            {
                "branch_id": str(branch_id) if branch_id else None,
                "pdf_key": pdf.key,
                "png_key": png.key,
                "pages": rendered.page_count,
                "png_width": rendered.png_width,
                "png_height": rendered.png_height,
            }
        )

    def write(session: Session) -> dict[str, Any]:
        recorded = record_outputs(session, ctx, outputs)
        # A draft becomes ready (an archived promo stays archived). One conditional UPDATE
        # whose row lock does not conflict with the key-share locks that recording assets
        # takes, so concurrent renders of one promo cannot deadlock, whatever the order.
        promos.mark_ready(session, ctx.account_id, snap.promo.id)
        return {
            "promo_version": snap.promo.version,
            "paper": job.paper,
            "watermark": snap.watermark,
            "output_sets": sets,
            "asset_ids": [str(asset_id) for asset_id in recorded],
        }

    ctx.finish(write)
