"""Branch packs, export bundles and co-op reports through the real worker."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from decimal import Decimal

import pypdfium2 as pdfium
from counterpromo_core import branches, promos, work
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import BranchIn, ItemIn
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def finished(job_row: Callable[[uuid.UUID], Job], job_id: uuid.UUID) -> Callable[[], bool]:
    return lambda: job_row(job_id).status not in ("queued", "running")


def test_a_branch_pack_renders_per_branch_and_the_bundle_holds_only_the_latest_set(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account("pro")
    promo_id = make_promo(account_id, items=4)
    with sessions.begin() as session:
        for name, phone in (("Leeds", "0113 496 0000"), ("York / Ripon", "01904 496000")):
            branches.create_branch(
                session, account_id, BranchIn(name=name, address=f"1 High St, {name}", phone=phone)
            )
        first = work.request_render(session, account_id, promo_id, clock=SystemClock()).id
    dispatch()
    start_worker()
    wait_until(finished(job_row, first), what="the first render")
    with sessions.begin() as session:
        pack = work.request_render(
            session, account_id, promo_id, branch_pack=True, clock=SystemClock()
        ).id
    dispatch()
    wait_until(finished(job_row, pack), what="the branch pack")
    with sessions.begin() as session:
        export = work.request_export(session, account_id, promo_id).id
    dispatch()
    wait_until(finished(job_row, export), what="the export")

    pack_job = job_row(pack)
    assert pack_job.status == "succeeded", pack_job.error
    assert pack_job.result is not None
    sets = pack_job.result["output_sets"]
    assert len(sets) == 2
    texts = [pdf_text(blobs.get_bytes(config.assets_bucket, s["pdf_key"])) for s in sets]
    assert any("Leeds" in t and "0113 496 0000" in t for t in texts)
    assert any("York / Ripon" in t and "01904 496000" in t for t in texts)

    export_job = job_row(export)
    assert export_job.status == "succeeded", export_job.error
    assert export_job.result is not None
    bundle = blobs.get_bytes(config.exports_bucket, export_job.result["key"])
    assert export_job.result["key"].startswith(f"{account_id}/{promo_id}/{export}/")
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        leeds_pdf = archive.read("Leeds/promo.pdf")
    assert names == [
        "Leeds/preview.png",
        "Leeds/promo.pdf",
        "York-Ripon/preview.png",
        "York-Ripon/promo.pdf",
        "manifest.json",
    ]
    assert manifest["render_job_id"] == str(pack)
    assert "Leeds" in pdf_text(leeds_pdf)


def test_an_export_before_any_render_fails_with_a_reason(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=1)
    with sessions.begin() as session:
        export = work.request_export(session, account_id, promo_id).id
    dispatch()
    start_worker()
    wait_until(finished(job_row, export), what="the export")

    job = job_row(export)
    assert job.status == "failed"
    assert job.error == "the promo has not been rendered yet: render it, then export"


def test_the_coop_report_totals_each_vendor_and_escapes_formulas(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account("starter", currency="CAD", locale="fr-CA")
    promo_id = make_promo(account_id, items=0)
    with sessions.begin() as session:
        promos.replace_items(
            session,
            account_id,
            promo_id,
            [
                ItemIn(
                    sku="A1", name="Claw hammer", coop_vendor="Stanley", coop_amount=Decimal("2.50")
                ),
                ItemIn(
                    sku="A2",
                    name='=HYPERLINK("http://evil")',
                    coop_vendor="Stanley",
                    coop_amount=Decimal("1.25"),
                ),
                ItemIn(sku="B1", name="Screws", coop_vendor="Spax", coop_amount=Decimal("4.00")),
                ItemIn(sku="C1", name="Tape measure"),
            ],
        )
        report = work.request_coop_report(session, account_id, promo_id).id
    dispatch()
    start_worker()
    wait_until(finished(job_row, report), what="the co-op report")

    job = job_row(report)
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert (job.result["lines"], job.result["vendors"]) == (3, 2)
    data = blobs.get_bytes(config.exports_bucket, job.result["key"])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][4:6] == ["Sale price (CAD)", "Co-op amount (CAD)"]
    totals = {row[0]: row[5] for row in rows if row[0].endswith("total")}
    assert totals == {"Spax total": "4.00", "Stanley total": "3.75", "Grand total": "7.75"}
    names = [row[2] for row in rows]
    assert '\'=HYPERLINK("http://evil")' in names
    assert not any(cell.startswith("=") for row in rows for cell in row)
