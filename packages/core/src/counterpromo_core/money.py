"""An account's money as its customers read it: currency (ISO 4217), locale (BCP 47), labels.

Amounts are formatted by Babel from CLDR data (symbol, its place, separators, decimals of
the currency), so ``1299`` prints ``$1,299.00`` for en-US/USD, ``£1,299.00`` for
en-GB/GBP, ``1 299,00 $`` for fr-CA/CAD and ``1.299,00 €`` for de-DE/EUR. Babel is
imported inside the functions: the CLI's start-up never loads it.

The words printed around a price (the regular-price label, "Save", the text of an item
without a price) are not in CLDR; ``PRICE_LABELS`` is our small table, looked up by
language and territory, then language alone, then English.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from counterpromo_core.errors import ValidationFailed

if TYPE_CHECKING:
    from babel import Locale


@dataclass(frozen=True)
class PriceLabels:
    regular: str  # before the struck-through regular price: "Reg.", "Was", "RRP"...
    save: str  # before the amount saved: "Save", "Économisez"...
    no_price: str  # an item without a price


# (language, territory or None) -> labels. The territory entry wins over the language one.
PRICE_LABELS: dict[tuple[str, str | None], PriceLabels] = {
    ("en", None): PriceLabels("Was", "Save", "Ask in store"),
    ("en", "US"): PriceLabels("Reg.", "Save", "Ask in store"),
    ("en", "CA"): PriceLabels("Reg.", "Save", "Ask in store"),
    ("en", "GB"): PriceLabels("RRP", "Save", "Ask in store"),
    ("en", "IE"): PriceLabels("RRP", "Save", "Ask in store"),
    ("en", "AU"): PriceLabels("RRP", "Save", "Ask in store"),
    ("en", "NZ"): PriceLabels("RRP", "Save", "Ask in store"),
    ("fr", None): PriceLabels("Au lieu de", "Économisez", "Prix en magasin"),
    ("fr", "CA"): PriceLabels("Rég.", "Économisez", "Prix en magasin"),
    ("de", None): PriceLabels("UVP", "Sie sparen", "Preis im Markt"),
    ("es", None): PriceLabels("Antes", "Ahorre", "Consulte en tienda"),
    ("it", None): PriceLabels("Prezzo consigliato", "Risparmi", "Chiedi in negozio"),
    ("nl", None): PriceLabels("Adviesprijs", "U bespaart", "Vraag in de winkel"),
    ("pt", None): PriceLabels("Antes", "Poupe", "Consulte na loja"),
    ("pl", None): PriceLabels("Cena regularna", "Oszczędzasz", "Zapytaj w sklepie"),
    ("sv", None): PriceLabels("Ord. pris", "Spara", "Fråga i butiken"),
}


# In ISO 4217 but not money a dealer prices in: testing, "no currency", metals, fund units.
_NOT_PRICES = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD"}
)


def check_currency(code: str, field: str = "currency") -> str:
    """The ISO 4217 code, upper case; ValidationFailed when CLDR does not know it."""
    from babel.numbers import list_currencies  # noqa: PLC0415 - lazy, see above

    cleaned = code.strip().upper()
    known = cleaned in list_currencies() and cleaned not in _NOT_PRICES
    if len(cleaned) != 3 or not cleaned.isalpha() or not known:
        raise ValidationFailed.single(
            field, f"{code!r} is not an ISO 4217 currency code (for example USD, GBP, CAD, EUR)"
        )
    return cleaned


def check_locale(tag: str, field: str = "locale") -> str:
    """The BCP 47 tag in its usual spelling ("fr-CA"); ValidationFailed when CLDR lacks it."""
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415 - lazy, see above

    cleaned = tag.strip()
    refusal = ValidationFailed.single(
        field, f"{tag!r} is not a known BCP 47 locale (for example en-US, en-GB, fr-CA, de-DE)"
    )
    if not cleaned or "_" in cleaned or len(cleaned) > 35:
        raise refusal
    try:
        parsed = Locale.parse(cleaned, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        raise refusal from None
    return "-".join(part for part in (parsed.language, parsed.script, parsed.territory) if part)


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``amount`` as the locale writes the currency, with the currency's usual decimals."""
    from babel.numbers import format_currency  # noqa: PLC0415 - lazy, see above

    return str(format_currency(amount, currency, locale=_babel_locale(locale)))


def currency_digits(currency: str) -> int:
    """The decimals the currency is written with (2 for USD, 0 for JPY), from CLDR."""
    from babel.numbers import get_currency_precision  # noqa: PLC0415 - lazy, see above

    return int(get_currency_precision(currency))


def price_labels(locale: str) -> PriceLabels:
    language, _, rest = locale.partition("-")
    territory = next((p for p in rest.split("-") if len(p) == 2 and p.isupper()), None)
    return (
        PRICE_LABELS.get((language, territory))
        or PRICE_LABELS.get((language, None))
        or PRICE_LABELS[("en", None)]
    )


@lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    from babel import Locale  # noqa: PLC0415 - lazy, see above

    return Locale.parse(locale, sep="-")


__all__ = [
    "PRICE_LABELS",
    "PriceLabels",
    "check_currency",
    "check_locale",
    "currency_digits",
    "format_money",
    "price_labels",
]
