"""Prices, savings and the regular-price label as the account's locale writes them (Babel/CLDR).

Checked on the PDF's text (pypdfium2) for every template; the PNG is rasterised from the
same Typst document, so it shows the same strings.
"""

from __future__ import annotations

from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from counterpromo_worker.rendering import RenderBrand, RenderInput, RenderItem, render_promo

TEMPLATES = ["multi-product", "bold", "clearance", "modern", "vendor-spotlight"]
# (currency, locale) -> (sale 1299, regular 1499.50 with its label, saving 200.50)
EXPECTED = {
    ("USD", "en-US"): ("$1,299.00", "Reg. $1,499.50", "Save $200.50"),
    ("GBP", "en-GB"): ("£1,299.00", "RRP £1,499.50", "Save £200.50"),
    ("CAD", "en-CA"): ("$1,299.00", "Reg. $1,499.50", "Save $200.50"),
    ("CAD", "fr-CA"): ("1 299,00 $", "Rég. 1 499,50 $", "Économisez 200,50 $"),
    ("EUR", "de-DE"): ("1.299,00 €", "UVP 1.499,50 €", "Sie sparen 200,50 €"),
}
NO_PRICE = {"en-US": "Ask in store", "fr-CA": "Prix en magasin", "de-DE": "Preis im Markt"}


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        text = "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    # CLDR separates with no-break spaces; compare them as plain spaces.
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def flyer(currency: str, locale: str, template: str = "multi-product") -> RenderInput:
    return RenderInput(
        title="Spring Trade Event",
        template=template,
        items=[
            RenderItem(name="Mitre saw", sale_price=Decimal("1299"), rrp=Decimal("1499.5")),
            RenderItem(name="Spirit level", sale_price=Decimal("19.99")),
            RenderItem(name="Ask about me", sale_price=None),
        ],
        brand=RenderBrand(),
        currency=currency,
        locale=locale,
    )


@pytest.mark.parametrize(("currency", "locale"), list(EXPECTED))
def test_prices_savings_and_label_follow_the_locale(currency: str, locale: str) -> None:
    price, regular, save = EXPECTED[(currency, locale)]
    text = pdf_text(render_promo(flyer(currency, locale)).pdf)
    assert price in text
    assert regular in text
    assert save in text


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_prints_the_locales_money(template: str) -> None:
    text = pdf_text(render_promo(flyer("CAD", "fr-CA", template)).pdf)
    assert "1 299,00 $" in text
    assert "£" not in text


@pytest.mark.parametrize("locale", list(NO_PRICE))
def test_an_item_without_a_price_reads_in_the_locales_words(locale: str) -> None:
    currency = {"en-US": "USD", "fr-CA": "CAD", "de-DE": "EUR"}[locale]
    assert NO_PRICE[locale] in pdf_text(render_promo(flyer(currency, locale)).pdf)


def test_a_currency_without_cents_prints_none() -> None:
    text = pdf_text(render_promo(flyer("JPY", "en-US")).pdf)
    assert "¥1,299" in text
    assert "1,299.00" not in text
