"""Fonts: European Latin, Greek and Cyrillic print with the bundled Noto Sans; text in any
other script (CJK, emoji, Arabic, ...) is refused with the characters named."""

from __future__ import annotations

import re
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from counterpromo_worker.rendering import (
    RenderBranch,
    RenderBrand,
    RenderError,
    RenderInput,
    RenderItem,
    render_promo,
)
from counterpromo_worker.rendering.coverage import printable_codepoints, unprintable

EUROPEAN = [
    "Zażółć gęślą jaźń",  # Polish
    "Příliš žluťoučký kůň",  # Czech
    "Árvíztűrő tükörfúrógép",  # Hungarian
    "Şişli çağrı ığdır",  # noqa: RUF001 (Turkish dotless i)
    "Înșurubați țevile",  # Romanian
    "Þórður ærði ðóttir",  # Icelandic
    "Ærøskøbing Åse",  # Danish / Norwegian
    "Straße Größe",  # German
    "Ĉu ŝi ĝuas",  # Esperanto
    "Ķekava Ļaudona Ņ",  # Latvian
    "Ελληνικό τρυπάνι",  # Greek
    "Ударная дрель Ёж",  # Russian
    "Ґудзик Їжак Є",  # Ukrainian
    "Ђурђевак Џеп Љ",  # Serbian
]


def promo(items: list[RenderItem], **changes: object) -> RenderInput:
    fields: dict[str, object] = {
        "title": "Offer",
        "template": "multi-product",
        "items": items,
        "currency": "EUR",
        "locale": "de-DE",
        "brand": RenderBrand(),
    }
    fields.update(changes)
    return RenderInput.model_validate(fields)


def pdf_words(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range() for p in document).split())
    finally:
        document.close()


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base font names without the subset tag (``ABCDEF+NotoSans-Bold`` -> ``NotoSans-Bold``)."""
    return {m.decode() for m in re.findall(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([A-Za-z0-9-]+)", pdf)}


def test_european_greek_and_cyrillic_names_print_with_noto_sans() -> None:
    items = [RenderItem(name=name, sale_price=Decimal(n + 1)) for n, name in enumerate(EUROPEAN)]

    pdf = render_promo(promo(items)).pdf

    words = pdf_words(pdf)
    for name in EUROPEAN:
        assert name in words
    fonts = embedded_fonts(pdf)
    assert fonts, "no embedded font found"
    # Every glyph came from Noto Sans: no fallback face was needed for any character.
    assert all(font.startswith("NotoSans") for font in fonts), fonts


def test_every_european_letter_is_in_the_bundled_font() -> None:
    printable = printable_codepoints()
    letters = {char for name in EUROPEAN for char in name if not char.isspace()}
    assert {char for char in letters if ord(char) not in printable} == set()
    assert unprintable("".join(EUROPEAN)) == []


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("电钻 Drill", ["'电' (U+7535)", "'钻' (U+94BB)"]),
        ("ドリル", ["'ド' (U+30C9)", "'リ' (U+30EA)", "'ル' (U+30EB)"]),
        ("Drill 🔨", ["'🔨' (U+1F528)"]),
        ("مثقاب", ["'م' (U+0645)"]),
    ],
)
def test_an_item_in_another_script_is_refused_naming_its_characters(
    name: str, named: list[str]
) -> None:
    items = [RenderItem(name="Saw", sale_price=Decimal(5)), RenderItem(name=name)]

    with pytest.raises(RenderError) as refused:
        render_promo(promo(items))

    message = refused.value.message
    assert f"item 2 ({name!r})" in message
    for char in named:
        assert char in message
    assert "Latin, Greek and Cyrillic" in message
    assert "Saw" not in message


def test_every_field_is_checked_and_named() -> None:
    data = promo(
        [RenderItem(name="Saw", vendor="東芝", category="工具")],
        title="Sale 🎉",
        branch=RenderBranch(name="Leeds", address="北京"),
        brand=RenderBrand(strapline="✨"),
    )
    with pytest.raises(RenderError) as refused:
        render_promo(data)

    message = refused.value.message
    for where in (
        "the title: '🎉'",
        "the brand strapline",
        "the branch address",
        "the category of item 1",
        "the vendor of item 1",
    ):
        assert where in message


def test_invisible_format_characters_are_not_refused() -> None:
    # A soft hyphen and a zero-width joiner print nothing, so they need no glyph.
    pdf = render_promo(promo([RenderItem(name="Ham\u00admer\u200d drill", sale_price=Decimal(3))]))
    assert pdf.page_count == 1


def test_prices_the_fonts_cannot_write_are_refused_naming_the_locale() -> None:
    # ja-JP writes yen with the fullwidth sign, which Noto Sans has no glyph for.
    data = promo(
        [RenderItem(name="Drill", sale_price=Decimal("1200"))], currency="JPY", locale="ja-JP"
    )
    with pytest.raises(RenderError, match=r"prices in JPY written for ja-JP.*U\+FFE5"):
        render_promo(data)
