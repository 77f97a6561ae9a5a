"""Account money: currency and locale validated by Babel, formatting and labels by locale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from counterpromo_core import accounts
from counterpromo_core.errors import ValidationFailed
from counterpromo_core.money import check_currency, check_locale, format_money, price_labels
from sqlalchemy.orm import Session


@pytest.mark.parametrize(
    ("currency", "locale", "written"),
    [
        ("USD", "en-US", "$1,299.50"),
        ("GBP", "en-GB", "£1,299.50"),
        ("CAD", "en-CA", "$1,299.50"),
        ("CAD", "fr-CA", "1\u00a0299,50\u00a0$"),
        ("EUR", "de-DE", "1.299,50\u00a0€"),
        ("CAD", "en-US", "CA$1,299.50"),
        ("JPY", "en-US", "¥1,300"),
    ],
)
def test_amounts_are_written_as_the_locale_writes_the_currency(
    currency: str, locale: str, written: str
) -> None:
    assert format_money(Decimal("1299.50"), currency, locale) == written


@pytest.mark.parametrize(
    ("locale", "regular", "save"),
    [
        ("en-US", "Reg.", "Save"),
        ("en-CA", "Reg.", "Save"),
        ("en-GB", "RRP", "Save"),
        ("en-ZA", "Was", "Save"),
        ("fr-CA", "Rég.", "Économisez"),
        ("fr-FR", "Au lieu de", "Économisez"),
        ("de-DE", "UVP", "Sie sparen"),
        ("de-AT", "UVP", "Sie sparen"),
        ("zh-Hant-TW", "Was", "Save"),
    ],
)
def test_labels_by_territory_then_language_then_english(
    locale: str, regular: str, save: str
) -> None:
    labels = price_labels(locale)
    assert (labels.regular, labels.save) == (regular, save)


def test_codes_are_normalised_and_unknown_ones_refused() -> None:
    assert check_currency(" cad ") == "CAD"
    assert check_locale("fr-ca") == "fr-CA"
    assert check_locale("zh-hant-tw") == "zh-Hant-TW"
    for bad in ("", "DOLLAR", "ZZZ", "XXX", "12A", "€"):
        with pytest.raises(ValidationFailed) as caught:
            check_currency(bad)
        assert caught.value.errors[0].field == "currency"
    for bad in ("", "en_US", "xx-QQ", "english", "en-US-" + "x" * 40):
        with pytest.raises(ValidationFailed) as caught:
            check_locale(bad)
        assert caught.value.errors[0].field == "locale"


def test_an_account_is_created_and_changed_with_checked_codes(session: Session) -> None:
    account = accounts.create_account(
        session, name="Maple Lumber", owner_email="o@maple.test", currency="cad", locale="fr-ca"
    )
    assert (account.currency, account.locale) == ("CAD", "fr-CA")
    with pytest.raises(ValidationFailed):
        accounts.create_account(
            session, name="Nope", owner_email="o@nope.test", currency="CAD", locale="fr_XX"
        )
    changed = accounts.update_account(session, account.id, locale="en-CA")
    assert (changed.currency, changed.locale) == ("CAD", "en-CA")
    with pytest.raises(ValidationFailed):
        accounts.update_account(session, account.id, currency="LOONIE")
