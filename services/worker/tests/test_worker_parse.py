"""parse_upload in the real worker: good files merge into the promo, hostile ones change nothing."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable
from decimal import Decimal

import openpyxl
import pytest
from counterpromo_core import promos, uploads
from counterpromo_core.db.models import Job, Upload
from counterpromo_storage.blobs import BlobStore
from counterpromo_storage.keys import account_key
from counterpromo_storage.settings import AppConfig
from sqlalchemy.orm import Session, sessionmaker

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_file(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    config: AppConfig,
    account_id: uuid.UUID,
    promo_id: uuid.UUID,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    mode: str = "append",
) -> tuple[uuid.UUID, uuid.UUID]:
    """Store the file where the presigned POST would have put it and ask for a parse."""
    key = account_key(account_id, "uploads", uuid.uuid4().hex, filename)
    blobs.put(config.uploads_bucket, key, data, content_type)
    with sessions.begin() as session:
        upload = uploads.create_upload(
            session,
            account_id,
            filename=filename,
            content_type=content_type,
            promo_id=promo_id,
            bucket=config.uploads_bucket,
            key=key,
            max_bytes=uploads.MAX_UPLOAD_BYTES,
        )
        job = uploads.request_parse(session, account_id, upload.id, mode=mode)  # type: ignore[arg-type]
        return upload.id, job.id


def items_of(
    sessions: sessionmaker[Session], account_id: uuid.UUID, promo_id: uuid.UUID
) -> list[tuple[uuid.UUID, str | None, str, Decimal | None]]:
    with sessions() as session:
        promo = promos.get_promo(session, account_id, promo_id)
        return [(i.id, i.sku, i.name, i.sale_price) for i in promo.items]


def upload_row(sessions: sessionmaker[Session], upload_id: uuid.UUID) -> Upload:
    with sessions() as session:
        return session.get_one(Upload, upload_id)


def test_a_csv_merges_into_the_promo_keeping_ids_where_the_sku_matches(
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
    account_id = make_account()
    promo_id = make_promo(account_id, items=2)
    before = items_of(sessions, account_id, promo_id)
    csv = (
        "SKU,Product Name,Price,Unit,Notes\n"
        "HT-001,Claw hammer 20oz,£1,299.00,each,\n"
        "HT-900,Box of wood screws,$12,box,bestseller\n"
        "HT-901,Mystery item,call us,each,\n"
    ).replace("£1,299.00", '"£1,299.00"')
    upload_id, job_id = upload_file(
        sessions,
        blobs,
        config,
        account_id,
        promo_id,
        filename="prices.csv",
        content_type=CSV,
        data=csv.encode(),
    )
    dispatch()

    start_worker()
    wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="the parse")

    job = job_row(job_id)
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert job.result["rows_imported"] == 2
    assert [e["row"] for e in job.result["row_errors"]] == [4]
    assert job.result["header_row"] == 1
    assert job.result["columns"] == {
        "SKU": "sku",
        "Product Name": "name",
        "Price": "sale_price",
        "Unit": "unit",
    }
    assert job.result["ignored_columns"] == ["Notes"]
    after = items_of(sessions, account_id, promo_id)
    assert [(sku, name, price) for _, sku, name, price in after] == [
        ("HT-001", "Claw hammer 20oz", Decimal("1299.00")),
        before[1][1:],
        ("HT-900", "Box of wood screws", Decimal("12.00")),
    ]
    assert after[0][0] == before[0][0]
    assert upload_row(sessions, upload_id).status == "parsed"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (64 * 1024 * 1024))
    return out.getvalue()


def _million_rows() -> bytes:
    return b"name,price\n" + b"x,1\n" * 1_000_000


HOSTILE: dict[str, tuple[str, str, Callable[[], bytes], str]] = {
    "wrong type": ("prices.csv", CSV, lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
    "zip bomb": ("prices.xlsx", XLSX, _zip_bomb, "zip bomb"),
    "a million rows": ("prices.csv", CSV, _million_rows, "rows"),
    "formulas": (
        "prices.xlsx",
        XLSX,
        lambda: _xlsx([["Name", "Price"], ["Hammer", '=HYPERLINK("http://x","9")']]),
        "formula",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_upload_fails_its_job_with_a_reason_and_changes_nothing(
    case: str,
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
    filename, content_type, make, expected = HOSTILE[case]
    account_id = make_account()
    promo_id = make_promo(account_id, items=3)
    before = items_of(sessions, account_id, promo_id)
    upload_id, job_id = upload_file(
        sessions,
        blobs,
        config,
        account_id,
        promo_id,
        filename=filename,
        content_type=content_type,
        data=make(),
        mode="replace",
    )
    dispatch()

    start_worker()
    wait_until(lambda: job_row(job_id).status not in ("queued", "running"), what="the parse")

    job = job_row(job_id)
    assert job.status == "failed"
    assert job.error is not None
    assert expected in job.error
    assert job.attempts == 1
    upload = upload_row(sessions, upload_id)
    assert upload.status == "failed"
    assert upload.error == job.error
    assert items_of(sessions, account_id, promo_id) == before
