"""The gallery: every template x paper x (12, 40 items) x locale rendered into one folder,
with a contact sheet, so a person can look at all of it at once.

    uv run nox -s gallery                      # -> gallery-out/ (gitignored)
    python services/worker/gallery/gallery.py --out DIR --locales en-GB,en-US --ppi 48

``--references`` rewrites the committed reference PNGs that
``tests/test_gallery_references.py`` compares renders against, and the README's contact
sheet (``docs/gallery-contact-sheet.png``, 24 ppi, 48 colours).
"""

from __future__ import annotations

import argparse
import io
from decimal import Decimal
from pathlib import Path

from counterpromo_worker.rendering import RenderBrand, RenderInput, RenderItem, render_promo
from counterpromo_worker.rendering.models import Paper, TemplateName
from PIL import Image, ImageDraw

TEMPLATES: list[TemplateName] = ["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]
PAPERS: list[Paper] = ["A4", "Letter"]
COUNTS = (12, 40)
# The currency a dealer of each locale prints in.
LOCALE_CURRENCIES = {"en-GB": "GBP", "en-US": "USD", "en-CA": "CAD", "fr-CA": "CAD", "de-DE": "EUR"}
REFERENCE_PPI = 24
REFERENCES = Path(__file__).parent / "references"
DOCS_SHEET = Path(__file__).parents[1] / "docs" / "gallery-contact-sheet.png"


def sample(template: TemplateName, paper: Paper, count: int, locale: str) -> RenderInput:
    vendors = ("Makita", "Bosch", "DeWalt", None)
    items = [
        RenderItem(
            name=(f"Cordless combi drill {n}", f"Site saw {n} with blade", f"Sander {n}")[n % 3],
            sku=f"SKU-{n:03d}",
            sale_price=Decimal("9.99") + n,
            rrp=Decimal("14.99") + n if n % 2 else None,
            unit="each",
            category="Power tools",
            vendor=vendors[n % 4],
        )
        for n in range(1, count + 1)
    ]
    return RenderInput(
        title="Spring Trade Event",
        subhead="Prices for account holders",
        cta="Order at the counter today",
        template=template,
        items=items,
        brand=RenderBrand(strapline="Builders trust us"),
        paper=paper,
        currency=LOCALE_CURRENCIES[locale],
        locale=locale,
    )


def preview(template: TemplateName, paper: Paper, count: int, locale: str, ppi: int) -> Image.Image:
    output = render_promo(sample(template, paper, count, locale), preview_ppi=ppi)
    return Image.open(io.BytesIO(output.png)).convert("RGB")


def contact_sheet(tiles: list[tuple[str, Image.Image]], columns: int) -> Image.Image:
    width = max(tile.width for _, tile in tiles)
    height = max(tile.height for _, tile in tiles) + 14
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * (width + 6) + 6, rows * (height + 6) + 6), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (label, tile) in enumerate(tiles):
        x = 6 + (index % columns) * (width + 6)
        y = 6 + (index // columns) * (height + 6)
        draw.text((x, y), label, fill="black")
        sheet.paste(tile, (x, y + 14))
    return sheet


def build(out: Path, locales: list[str], ppi: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tiles = []
    for template in TEMPLATES:
        for paper in PAPERS:
            for count in COUNTS:
                for locale in locales:
                    image = preview(template, paper, count, locale, ppi)
                    name = f"{template}-{paper}-{count}-{locale}"
                    image.save(out / f"{name}.png")
                    tiles.append((name, image))
    sheet = contact_sheet(tiles, columns=len(PAPERS) * len(COUNTS) * len(locales))
    path = out / "contact-sheet.png"
    sheet.save(path)
    return path


def reference_cases() -> list[tuple[TemplateName, Paper, int, str]]:
    """The few renders committed as references: every template, A4, 12 items, en-GB."""
    return [(template, "A4", 12, "en-GB") for template in TEMPLATES]


def write_references() -> None:
    REFERENCES.mkdir(exist_ok=True)
    for template, paper, count, locale in reference_cases():
        image = preview(template, paper, count, locale, REFERENCE_PPI)
        image.save(REFERENCES / f"{template}-{paper}-{count}-{locale}.png", optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("gallery-out"))
    parser.add_argument("--locales", default="en-GB,en-US", help="comma-separated BCP 47 tags")
    parser.add_argument("--ppi", type=int, default=48)
    parser.add_argument(
        "--references",
        action="store_true",
        help="rewrite the committed reference PNGs and the README's contact sheet (24 ppi)",
    )
    args = parser.parse_args(argv)
    locales = [tag.strip() for tag in args.locales.split(",") if tag.strip()]
    if args.references:
        write_references()
        sheet = build(args.out, locales, REFERENCE_PPI)
        Image.open(sheet).quantize(colors=48).save(DOCS_SHEET, optimize=True)
        print(f"references written to {REFERENCES}, contact sheet to {DOCS_SHEET}")
        return
    sheet = build(args.out, locales, args.ppi)
    print(f"gallery in {args.out}; contact sheet {sheet}")


if __name__ == "__main__":
    main()
