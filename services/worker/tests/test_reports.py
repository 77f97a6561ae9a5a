"""The co-op CSV (totals, formula-injection escaping) and the deterministic export ZIP."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from decimal import Decimal

import pytest
from counterpromo_worker.reports import BundleFile, CoopLine, bundle_zip, coop_report_csv


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def line(name: str, coop_vendor: str | None, amount: str | None, **more: object) -> CoopLine:
    return CoopLine.model_validate(
        {
            "name": name,
            "coop_vendor": coop_vendor,
            "coop_amount": Decimal(amount) if amount is not None else None,
            **more,
        }
    )


def test_coop_report_groups_lines_by_vendor_with_totals() -> None:
    report = coop_report_csv(
        [
            line("Drill", "Makita", "10.50", sku="M-1", vendor="Makita", sale_price=Decimal("99")),
            line("Saw", "bosch", "5", sku="B-1", coop_note="spring fund"),
            line("Sander", "Makita", "4.25"),
            line("Tape", None, None),
            line("Level", "Makita", None),
            line("Nails", "  ", "3"),
        ],
        "GBP",
    )

    rows = read_csv(report)
    assert rows[0] == [
        "Co-op vendor",
        "SKU",
        "Product",
        "Vendor",
        "Sale price (GBP)",
        "Co-op amount (GBP)",
        "Note",
    ]
    assert rows[1:] == [
        ["bosch", "B-1", "Saw", "", "", "5.00", "spring fund"],
        ["bosch total", "", "", "", "", "5.00", "1 line"],
        ["Makita", "M-1", "Drill", "Makita", "99.00", "10.50", ""],
        ["Makita", "", "Sander", "", "", "4.25", ""],
        ["Makita", "", "Level", "", "", "", ""],
        ["Makita total", "", "", "", "", "14.75", "3 lines"],
        ["Grand total", "", "", "", "", "19.75", "4 lines"],
    ]


def test_coop_report_without_coop_items_has_a_zero_total() -> None:
    rows = read_csv(coop_report_csv([line("Tape", None, "2")], "USD"))
    assert rows[1:] == [["Grand total", "", "", "", "", "0.00", "0 lines"]]


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"],
)
def test_coop_report_escapes_formula_injection_in_every_text_cell(hostile: str) -> None:
    report = coop_report_csv(
        [line(hostile, hostile, "1", sku=hostile, vendor=hostile, coop_note=hostile)], "EUR"
    )

    rows = read_csv(report)
    first = rows[1]
    assert first[1] == first[2] == first[3] == first[6] == "'" + hostile
    # the vendor is grouped by its trimmed name, which is still a formula, so still escaped
    assert first[0] == "'" + hostile.strip()
    assert rows[2][0] == f"'{hostile.strip()} total"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_money_columns_name_the_currency_and_use_its_decimals() -> None:
    rows = read_csv(
        coop_report_csv([line("Drill", "Makita", "1250.5", sale_price=Decimal("12999"))], "JPY")
    )
    assert rows[0][4:6] == ["Sale price (JPY)", "Co-op amount (JPY)"]
    assert rows[1][4:6] == ["12999", "1251"]
    assert rows[-1][5] == "1251"


def test_safe_text_is_left_alone() -> None:
    rows = read_csv(coop_report_csv([line('1/2" copper elbow £', "Café Co", "2")], "CAD"))
    assert rows[1][:3] == ["Café Co", "", '1/2" copper elbow £']


def bundle_inputs() -> tuple[list[BundleFile], dict[str, object]]:
    files = [
        BundleFile(name="promo.pdf", data=b"%PDF-1.7 fake", content_type="application/pdf"),
        BundleFile(name="leeds/preview.png", data=b"\x89PNG fake", content_type="image/png"),
    ]
    manifest: dict[str, object] = {
        "promo_id": uuid.UUID("00000000-0000-0000-0000-000000000001"),
        "title": "Spring £ sale",
        "total": Decimal("12.50"),
    }
    return files, manifest


def test_bundle_holds_files_and_manifest() -> None:
    files, manifest = bundle_inputs()
    data = bundle_zip(files, manifest)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["manifest.json", "promo.pdf", "leeds/preview.png"]
        assert archive.read("promo.pdf") == b"%PDF-1.7 fake"
        assert archive.read("leeds/preview.png") == b"\x89PNG fake"
        written = json.loads(archive.read("manifest.json"))
    assert written["promo_id"] == "00000000-0000-0000-0000-000000000001"
    assert written["title"] == "Spring £ sale"
    assert written["total"] == "12.50"
    assert written["files"] == [
        {
            "name": "promo.pdf",
            "content_type": "application/pdf",
            "size": 13,
            "sha256": hashlib.sha256(b"%PDF-1.7 fake").hexdigest(),
        },
        {
            "name": "leeds/preview.png",
            "content_type": "image/png",
            "size": 9,
            "sha256": hashlib.sha256(b"\x89PNG fake").hexdigest(),
        },
    ]


def test_bundle_is_byte_identical_for_the_same_inputs() -> None:
    first = bundle_zip(*bundle_inputs())
    second = bundle_zip(*bundle_inputs())
    assert first == second
    files, manifest = bundle_inputs()
    assert bundle_zip(files, {**manifest, "title": "Other"}) != first


@pytest.mark.parametrize(
    "name", ["", "../evil.pdf", "/etc/passwd", "a/../../b", "a\\b.pdf", "a//b", "manifest.json"]
)
def test_bundle_refuses_unsafe_or_clashing_names(name: str) -> None:
    with pytest.raises(ValueError, match="bundle"):
        bundle_zip([BundleFile(name=name, data=b"x", content_type="text/plain")], {})


def test_bundle_refuses_duplicate_names() -> None:
    file = BundleFile(name="a.pdf", data=b"x", content_type="application/pdf")
    with pytest.raises(ValueError, match="unique"):
        bundle_zip([file, file], {})
