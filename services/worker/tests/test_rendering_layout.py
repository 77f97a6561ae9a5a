"""Pages that fit: a corpus of promos rendered with every template on A4 and Letter, checked
from the PDF's text objects (pypdfium2): every text line lies inside the page and inside the
box (card, band, table cell, badge) it starts in, no item is lost, and each template puts
as many items on a page as it promises.

Renders are shared through a cache, and 200-item promos are rendered for two templates only.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from counterpromo_worker.rendering import RenderBrand, RenderInput, RenderItem, render_promo
from counterpromo_worker.rendering.models import Paper, TemplateName

TEMPLATES: list[TemplateName] = ["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]
PAPERS: list[Paper] = ["A4", "Letter"]
TOLERANCE = 1.0  # points: anti-aliasing of a box's edge, a stroke's half width

# Items a full page holds, for the templates that lay cards out in a fixed grid.
GRID_PER_PAGE = {"multi-product": 12, "bold": 6, "modern": 16}
# Pages of the templates whose pages hold a varying number of items (rows of a table,
# groups of cards under vendor banners), as designed; (items, paper) -> pages.
FLOW_PAGES = {
    ("clearance", 1, "A4"): 1,
    ("clearance", 12, "A4"): 1,
    ("clearance", 40, "A4"): 3,
    ("clearance", 1, "Letter"): 1,
    ("clearance", 12, "Letter"): 1,
    ("clearance", 40, "Letter"): 3,
    ("vendor-spotlight", 1, "A4"): 1,
    ("vendor-spotlight", 12, "A4"): 1,
    ("vendor-spotlight", 40, "A4"): 3,
    ("vendor-spotlight", 1, "Letter"): 1,
    ("vendor-spotlight", 12, "Letter"): 1,
    ("vendor-spotlight", 40, "Letter"): 3,
    ("vendor-spotlight", 200, "Letter"): 9,
}
CASES = [(t, n, p) for t in TEMPLATES for n in (1, 12, 40) for p in PAPERS] + [
    ("multi-product", 200, "A4"),
    ("vendor-spotlight", 200, "Letter"),
]


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = (b"\x00" + bytes((30, 90, 200)) * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


UNBROKEN = "Schlagbohrmaschinenzubehörkofferwerkzeugsatzmitextraakkus"


def corpus_item(n: int) -> RenderItem:
    """Short, long and unbroken names, Greek and Cyrillic, pictures, RRPs, long vendors."""
    kind = n % 6
    name = {
        0: f"Saw {n}",
        1: f"Heavy duty cordless combi drill with two 5Ah batteries, fast charger and a "
        f"carry case, model {n} (trade pack of three for site teams)",
        2: f"{UNBROKEN}{n}{UNBROKEN}",
        3: f"Κρουστικό δράπανο / Ударная дрель {n}",
        4: f"Hammer {n}",
        5: f"Mitre saw {n} {'with laser guide ' * 8}",
    }[kind]
    return RenderItem(
        name=name,
        sku=f"SKU-{n:04d}" if kind != 5 else f"{UNBROKEN.upper()}-{n}",
        sale_price=Decimal(1000 + n),
        rrp=Decimal(1100 + n) if n % 2 else None,
        unit="each",
        category="Power tools",
        vendor=("Makita", "Bosch", None, "DeWalt")[n % 4],
        image=tiny_png(12, 9) if kind == 4 else None,
    )


@cache
def rendered(template: TemplateName, count: int, paper: Paper) -> bytes:
    data = RenderInput(
        title="Spring Trade Event with a long title that wraps onto a second line somewhere",
        subhead="Prices for account holders",
        cta="Order at the counter today",
        template=template,
        items=[corpus_item(n) for n in range(1, count + 1)],
        brand=RenderBrand(strapline="Builders trust us"),
        paper=paper,
        currency="GBP",
        locale="en-GB",
    )
    return render_promo(data).pdf


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float

    def holds_point(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.bottom <= y <= self.top

    def holds(self, other: Box) -> bool:
        return (
            other.left >= self.left - TOLERANCE
            and other.right <= self.right + TOLERANCE
            and other.bottom >= self.bottom - TOLERANCE
            and other.top <= self.top + TOLERANCE
        )

    @property
    def area(self) -> float:
        return (self.right - self.left) * (self.top - self.bottom)


@dataclass(frozen=True)
class PageLayout:
    page: Box
    texts: list[tuple[str, Box]]
    boxes: list[Box]  # filled or stroked paths with an area: cards, bands, cells, badges


def layouts(pdf: bytes) -> list[PageLayout]:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            width, height = page.get_size()
            textpage = page.get_textpage()
            texts, boxes = [], []
            for obj in page.get_objects():
                box = Box(*obj.get_bounds())
                if obj.type == pdfium_raw.FPDF_PAGEOBJ_TEXT:
                    texts.append((textpage.get_text_bounded(*obj.get_bounds()), box))
                elif (
                    obj.type == pdfium_raw.FPDF_PAGEOBJ_PATH
                    and min(box.right - box.left, box.top - box.bottom) > 4
                ):
                    boxes.append(box)
            pages.append(PageLayout(Box(0, 0, width, height), texts, boxes))
        return pages
    finally:
        document.close()


def text_of(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range() for p in document).split())
    finally:
        document.close()


@pytest.mark.parametrize(("template", "count", "paper"), CASES)
def test_every_text_line_stays_inside_the_page_and_its_box(
    template: TemplateName, count: int, paper: Paper
) -> None:
    for number, layout in enumerate(layouts(rendered(template, count, paper)), start=1):
        assert layout.texts, f"page {number} has no text"
        for text, box in layout.texts:
            assert layout.page.holds(box), f"page {number}: {text!r} leaves the page"
            # The box a line starts in: the smallest one holding the middle of its left edge.
            start = (box.left + 1.5, (box.bottom + box.top) / 2)
            holders = [b for b in layout.boxes if b.holds_point(*start)]
            if holders:
                own = min(holders, key=lambda b: b.area)
                assert own.holds(box), f"page {number}: {text!r} {box} leaves its box {own}"


@pytest.mark.parametrize(("template", "count", "paper"), CASES)
def test_every_item_is_printed_and_pages_hold_what_the_template_promises(
    template: TemplateName, count: int, paper: Paper
) -> None:
    pdf = rendered(template, count, paper)

    text = text_of(pdf)
    for n in range(1, count + 1):
        assert f"£{1000 + n:,}.00" in text, f"the price of item {n} is missing"
    pages = len(pdfium.PdfDocument(pdf))
    if template in GRID_PER_PAGE:
        assert pages == math.ceil(count / GRID_PER_PAGE[template])
    else:
        assert pages == FLOW_PAGES[(template, count, paper)]


def test_twelve_items_fit_one_page_in_multi_product() -> None:
    for paper in PAPERS:
        assert len(pdfium.PdfDocument(rendered("multi-product", 12, paper))) == 1
