"""End to end: a render requested through core reaches the real worker through SQS (moto)."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from decimal import Decimal

import pypdfium2 as pdfium
from counterpromo_core import assets, promos, usage, work
from counterpromo_core.db.models import Job, UsageMonthly
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import ItemIn, PromoCreate
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.settings import AppConfig
from counterpromo_worker.handlers.render_promo import PREVIEW_PPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

MM_PER_INCH = 25.4
A4_MM = (210, 297)


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        # Words separated by single spaces: where a name wraps depends on its card's size.
        pages = (page.get_textpage().get_text_range() for page in document)
        return " ".join(" ".join(pages).split())
    finally:
        document.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def request_render(
    sessions: sessionmaker[Session], account_id: uuid.UUID, promo_id: uuid.UUID
) -> uuid.UUID:
    with sessions.begin() as session:
        return work.request_render(session, account_id, promo_id, clock=SystemClock()).id


def test_a_render_job_makes_a_pdf_and_a_preview(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
    blobs: BlobStore,
    config: AppConfig,
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=12)
    job_id = request_render(sessions, account_id, promo_id)
    assert dispatch() == 1

    start_worker()
    wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="the render")

    job = job_row(job_id)
    assert job.status == "succeeded", job.error
    with sessions() as session:
        outputs = assets.latest_output_set(session, account_id, promo_id)
        promo = promos.get_promo(session, account_id, promo_id)
    assert promo.status == "ready"
    assert sorted(a.kind for a in outputs) == ["pdf", "png"]
    by_kind = {a.kind: a for a in outputs}
    for asset in outputs:
        assert asset.bucket == config.assets_bucket
        assert asset.key.startswith(f"{account_id}/{promo_id}/{job_id}/")
        assert asset.job_id == job_id
    pdf = blobs.get_bytes(config.assets_bucket, by_kind["pdf"].key)
    png = blobs.get_bytes(config.assets_bucket, by_kind["png"].key)
    assert by_kind["pdf"].size_bytes == len(pdf)
    assert by_kind["png"].size_bytes == len(png)

    text = pdf_text(pdf)
    assert promo.title in text
    assert len(promo.items) == 12
    for item in promo.items:
        assert item.name in text
        assert item.sale_price is not None
        assert f"£{item.sale_price:,.2f}" in text

    expected = tuple(round(mm / MM_PER_INCH * PREVIEW_PPI) for mm in A4_MM)
    width, height = png_size(png)
    assert abs(width - expected[0]) <= 1
    assert abs(height - expected[1]) <= 1
    assert job.result is not None
    assert job.result["output_sets"][0]["png_width"] == width


def test_a_promo_with_characters_the_fonts_lack_fails_naming_them(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    items = [
        ItemIn(name="Ударная дрель", sale_price=Decimal("99")),
        ItemIn(name="电钻 Drill 🔨", sale_price=Decimal("59")),
    ]
    with sessions.begin() as session:
        promo_id = promos.create_promo(
            session, account_id, PromoCreate(title="Offers", items=items), clock=SystemClock()
        ).id
    job_id = request_render(sessions, account_id, promo_id)
    dispatch()

    start_worker()
    wait_until(lambda: job_row(job_id).status == "failed", what="the render to fail")

    job = job_row(job_id)
    assert job.attempts == 1
    assert job.error is not None
    assert "item 2 ('电钻 Drill 🔨')" in job.error
    for named in ("'电' (U+7535)", "'钻' (U+94BB)", "'🔨' (U+1F528)"):
        assert named in job.error
    assert "Ударная" not in job.error  # Cyrillic prints


def test_the_same_message_twice_makes_one_asset_set_and_one_usage_count(
    *,
    sessions: sessionmaker[Session],
    make_account: Callable[..., uuid.UUID],
    make_promo: Callable[..., uuid.UUID],
    dispatch: Callable[[], int],
    queue: JobQueue,
    config: AppConfig,
    start_worker: Callable[..., object],
    wait_until: Callable[..., object],
    counts: Callable[[str], tuple[int, int]],
    job_row: Callable[[uuid.UUID], Job],
) -> None:
    account_id = make_account()
    promo_id = make_promo(account_id, items=3)
    job_id = request_render(sessions, account_id, promo_id)
    assert dispatch() == 1
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
    # SQS may deliver a message twice, even at the same time: send a copy of it.
    queue.send(
        {"job_id": str(job_id), "type": "render_promo", "account_id": str(account_id), "attempt": 1}
        | job.payload
    )

    start_worker(concurrency=2)
    wait_until(lambda: counts(config.jobs_queue_url) == (0, 0), what="both messages settled")

    assert job_row(job_id).status == "succeeded"
    with sessions() as session:
        rows = assets.list_assets(session, account_id, promo_id)
        renders = session.scalar(
            select(func.sum(UsageMonthly.renders)).where(UsageMonthly.account_id == account_id)
        )
        report = usage.usage_report(session, account_id, clock=SystemClock())
    assert sorted(a.kind for a in rows) == ["pdf", "png"]
    assert renders == 1
    assert report.counters["renders"].used == 1
    assert job_row(job_id).attempts in (1, 2)


def test_concurrent_renders_of_one_promo_all_succeed_at_the_first_attempt(
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
    promo_id = make_promo(account_id, items=2)
    job_ids = [request_render(sessions, account_id, promo_id) for _ in range(6)]
    dispatch()

    start_worker(concurrency=4)
    wait_until(
        lambda: all(job_row(j).status not in ("queued", "running") for j in job_ids),
        what="all renders",
    )

    assert [(job_row(j).status, job_row(j).attempts) for j in job_ids] == [("succeeded", 1)] * 6
