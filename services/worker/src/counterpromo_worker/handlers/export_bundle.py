"""``export_bundle``: a ZIP of the promo's latest output set plus a manifest, to the exports bucket.

Only the newest succeeded render's files go in (not every historical render);
a branch pack's files sit in one folder per branch.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from counterpromo_core import assets, branches, promos
from counterpromo_core.db.models import Asset
from counterpromo_storage.blobs import BlobNotFound
from sqlalchemy.orm import Session

from counterpromo_worker.handlers.outputs import output_key, record_output, store_output
from counterpromo_worker.reports import BundleFile, bundle_zip
from counterpromo_worker.runtime.context import JobContext
from counterpromo_worker.runtime.errors import PermanentJobError

FILE_NAMES = {"pdf": "promo.pdf", "png": "preview.png"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def folder_name(name: str) -> str:
    return _UNSAFE.sub("-", name).strip("-.") or "branch"


def _folders(outputs: list[Asset], branch_names: dict[uuid.UUID, str]) -> dict[uuid.UUID, str]:
    """A distinct, file-system-safe folder per branch of the output set."""
    folders: dict[uuid.UUID, str] = {}
    for branch_id in dict.fromkeys(a.branch_id for a in outputs if a.branch_id is not None):
        base = folder_name(branch_names.get(branch_id, str(branch_id)))
        name, n = base, 2
        while name in folders.values():
            name, n = f"{base}-{n}", n + 1
        folders[branch_id] = name
    return folders


def run(ctx: JobContext) -> None:
    promo_id = ctx.require_promo_id()
    with ctx.sessions() as session:
        promo = promos.get_promo(session, ctx.account_id, promo_id)
        outputs = assets.latest_output_set(session, ctx.account_id, promo_id)
        branch_names = {b.id: b.name for b in branches.list_branches(session, ctx.account_id)}
    if not outputs:
        raise PermanentJobError("the promo has not been rendered yet: render it, then export")

    folders = _folders(outputs, branch_names)
    files: list[BundleFile] = []
    for asset in outputs:
        name = FILE_NAMES.get(asset.kind, asset.key.rsplit("/", 1)[-1])
        if asset.branch_id is not None:
            name = f"{folders[asset.branch_id]}/{name}"
        try:
            data = ctx.blobs.get_bytes(asset.bucket, asset.key)
        except BlobNotFound as error:
            raise PermanentJobError(
                "a file of the latest render is missing: render the promo again, then export"
            ) from error
        files.append(BundleFile(name=name, data=data, content_type=asset.content_type))

    render_job_id = outputs[0].job_id
    manifest = {
        "promo_id": promo.id,
        "title": promo.title,
        "render_job_id": render_job_id,
        "branches": [
            {"branch_id": branch_id, "name": branch_names.get(branch_id), "folder": folder}
            for branch_id, folder in folders.items()
        ],
    }
    bundle = store_output(
        ctx,
        kind="zip",
        bucket=ctx.services.config.exports_bucket,
        key=output_key(ctx, "bundle.zip"),
        data=bundle_zip(files, manifest),
        content_type="application/zip",
    )

    def write(session: Session) -> dict[str, Any]:
        asset = record_output(session, ctx, bundle)
        return {
            "asset_id": str(asset.id),
            "key": bundle.key,
            "files": [file.name for file in files],
            "render_job_id": str(render_job_id),
        }

    ctx.finish(write)
