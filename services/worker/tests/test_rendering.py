"""render_promo against the real Typst compiler, checked through pypdfium2's text extraction."""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from counterpromo_worker.rendering import (
    RenderBranch,
    RenderBrand,
    RenderError,
    RenderInput,
    RenderItem,
    RenderOutput,
    render_promo,
)

TEMPLATES = ["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 16, 46)) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def make_items(count: int) -> list[RenderItem]:
    return [
        RenderItem(
            name=f"Hammer drill {n}",
            sku=f"HD-{n:03d}",
            sale_price=Decimal("10.00") + n,
            rrp=Decimal("15.00") + n if n % 2 else None,
            unit="each",
            category="Power tools",
            vendor=("Makita", "Bosch", None)[n % 3],
        )
        for n in range(1, count + 1)
    ]


def promo(**changes: object) -> RenderInput:
    fields: dict[str, object] = {
        "title": "Spring Trade Event",
        "subhead": "Prices for account holders",
        "cta": "Order at the counter today",
        "template": "multi-product",
        "items": make_items(12),
        "brand": RenderBrand(strapline="Builders trust us"),
        "currency": "GBP",
        "locale": "en-GB",
    }
    fields.update(changes)
    return RenderInput.model_validate(fields)


def pdf_text(output: RenderOutput) -> str:
    document = pdfium.PdfDocument(output.pdf)
    try:
        pages = (page.get_textpage().get_text_range() for page in document)
        # Words separated by single spaces: where a line wraps depends on the card's size.
        return " ".join(" ".join(pages).split()) + " "
    finally:
        document.close()


def pdf_page_sizes(output: RenderOutput) -> list[tuple[int, ...]]:
    document = pdfium.PdfDocument(output.pdf)
    try:
        return [tuple(round(v) for v in page.get_size()) for page in document]
    finally:
        document.close()


def test_pdf_shows_title_every_item_name_and_price() -> None:
    output = render_promo(promo())

    text = pdf_text(output)
    assert "Spring Trade Event" in text
    assert "Order at the counter today" in text
    for n in range(1, 13):
        assert f"Hammer drill {n} " in text
        assert f"£{10 + n}.00" in text
    assert output.pdf.startswith(b"%PDF-")
    assert output.page_count == len(pdf_page_sizes(output))


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_renders_title_names_and_prices(template: str) -> None:
    output = render_promo(promo(template=template, items=make_items(5)))

    text = pdf_text(output)
    assert "Spring Trade Event" in text
    for n in range(1, 6):
        assert f"Hammer drill {n}" in text
        assert f"£{10 + n}.00" in text


def test_templates_look_different() -> None:
    previews = {t: render_promo(promo(template=t, items=make_items(4))).png for t in TEMPLATES}
    assert len(set(previews.values())) == len(TEMPLATES)


def test_vendor_spotlight_groups_items_under_their_vendor() -> None:
    text = pdf_text(render_promo(promo(template="vendor-spotlight", items=make_items(6))))
    bosch, others, makita = (
        text.index(f"Featuring {v}") for v in ("Bosch", "More offers", "Makita")
    )
    assert bosch < text.index("Hammer drill 4") < others < text.index("Hammer drill 5") < makita
    assert makita < text.index("Hammer drill 6")


@pytest.mark.parametrize(
    "name",
    ['#import "x"', "]", "$x^2$", "*bold*", '#panic("boom")', "// not a comment", "<label> @ref"],
)
def test_markup_in_data_prints_literally(name: str) -> None:
    output = render_promo(
        promo(
            title=f"Title {name}",
            items=[RenderItem(name=name, sku=name, sale_price=Decimal("1"), vendor=name)],
            brand=RenderBrand(strapline=name),
            branch=RenderBranch(name=name, address=name, phone=name),
        )
    )
    text = pdf_text(output)
    assert f"Title {name}" in text
    assert text.count(name) >= 5


@pytest.mark.parametrize(
    ("paper", "ppi", "size"),
    [("A4", 72, (595, 842)), ("Letter", 72, (612, 792)), ("A4", 144, (1191, 1684))],
)
def test_png_preview_matches_paper_at_ppi(paper: str, ppi: int, size: tuple[int, int]) -> None:
    output = render_promo(promo(paper=paper), preview_ppi=ppi)

    assert output.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (output.png_width, output.png_height) == size


def test_letter_pages_differ_from_a4() -> None:
    a4 = pdf_page_sizes(render_promo(promo(paper="A4")))
    letter = pdf_page_sizes(render_promo(promo(paper="Letter")))
    assert set(a4) == {(595, 842)}
    assert set(letter) == {(612, 792)}


def test_watermark_only_when_asked() -> None:
    marked = pdf_text(render_promo(promo(watermark=True)))
    clean = pdf_text(render_promo(promo(watermark=False)))
    assert "Counter Promo — FREE PLAN" in marked
    assert "FREE PLAN" not in clean


def test_branch_block_only_when_given() -> None:
    branch = RenderBranch(
        name="Leeds Trade Counter", address="12 Kirkstall Rd", phone="0113 496 0000"
    )
    with_branch = pdf_text(render_promo(promo(branch=branch)))
    without = pdf_text(render_promo(promo()))
    assert "Leeds Trade Counter" in with_branch
    assert "12 Kirkstall Rd" in with_branch
    assert "Tel: 0113 496 0000" in with_branch
    assert "Leeds" not in without
    assert "Tel:" not in without


def test_rrp_and_saving_shown_only_when_rrp_is_above_sale_price() -> None:
    items = [
        RenderItem(name="Discounted", sale_price=Decimal("1299"), rrp=Decimal("1499.5")),
        RenderItem(name="Same price", sale_price=Decimal("7.5"), rrp=Decimal("7.50")),
        RenderItem(name="No price", sale_price=None, rrp=Decimal("3")),
    ]
    text = pdf_text(render_promo(promo(items=items, currency="USD", locale="en-US")))
    assert "$1,299.00" in text
    assert "$1,499.50" in text
    assert "Save $200.50" in text
    assert "$7.50" in text
    assert text.count("Save") == 1
    assert "Reg. $1,499.50" in text
    assert "$3.00" not in text
    assert "Ask in store" in text


def test_two_hundred_items_render_on_several_pages() -> None:
    output = render_promo(promo(items=make_items(200)))

    text = pdf_text(output)
    assert output.page_count > 5
    assert all(f"Hammer drill {n} " in text for n in range(1, 201))
    assert "£210.00" in text


def test_logo_and_item_images_are_placed() -> None:
    items = make_items(3)
    items[0] = items[0].model_copy(update={"image": tiny_png()})
    plain = render_promo(promo(items=items))
    branded = render_promo(promo(items=items, brand=RenderBrand(logo=tiny_png(8, 8))))

    def image_count(output: RenderOutput) -> int:
        document = pdfium.PdfDocument(output.pdf)
        try:
            page = document[0]
            return sum(1 for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
        finally:
            document.close()

    assert image_count(plain) == 1
    assert image_count(branded) == 2


def test_concurrent_renders_do_not_mix_their_data() -> None:
    titles = [f"Branch offer {n}" for n in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outputs = list(pool.map(lambda title: render_promo(promo(title=title)), titles))
    for title, output in zip(titles, outputs, strict=True):
        text = pdf_text(output)
        assert title in text
        assert sum(other in text for other in titles) == 1


def test_same_promo_renders_identical_bytes() -> None:
    assert render_promo(promo()).pdf == render_promo(promo()).pdf


@pytest.mark.parametrize("font", ["Libertinus Serif", "Inter", "Comic Sans", None])
def test_any_brand_font_renders(font: str | None) -> None:
    text = pdf_text(render_promo(promo(brand=RenderBrand(font=font))))
    assert "Spring Trade Event" in text


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"items": []}, "no items"),
        ({"items": make_items(201)}, "at most 200"),
        ({"brand": RenderBrand(primary_color="red")}, "primary colour 'red'"),
        ({"brand": RenderBrand(logo=b"%PDF-1.7 not a picture")}, "logo is not a PNG or JPEG"),
        (
            {"items": [RenderItem(name="Saw", image=b"GIF89a....")]},
            "image of 'Saw' is not a PNG or JPEG",
        ),
        (
            {"items": [RenderItem(name="Saw", image=b"\x89PNG\r\n\x1a\ncorrupt")]},
            "could not be laid out",
        ),
    ],
)
def test_bad_data_raises_a_readable_render_error(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(RenderError, match=reason):
        render_promo(promo(**changes))
