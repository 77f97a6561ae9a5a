"""The account's currency and locale: chosen at creation, shown, changed, validated by Babel."""

from __future__ import annotations

import httpx
import pytest
from counterpromo_api.testing import make_tenant
from sqlalchemy.orm import Session, sessionmaker


@pytest.mark.parametrize(
    ("currency", "locale"),
    [("USD", "en-US"), ("GBP", "en-GB"), ("CAD", "en-CA"), ("CAD", "fr-CA"), ("EUR", "de-DE")],
)
def test_the_account_shows_the_currency_and_locale_it_was_created_with(
    http: httpx.Client, sessions: sessionmaker[Session], currency: str, locale: str
) -> None:
    tenant = make_tenant(sessions, currency=currency, locale=locale)
    shown = http.get("/v1/account", headers=tenant.headers)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["currency"], shown.json()["locale"]) == (currency, locale)


def test_patch_changes_currency_and_locale_in_their_usual_spelling(
    http: httpx.Client, sessions: sessionmaker[Session]
) -> None:
    tenant = make_tenant(sessions, currency="USD", locale="en-US")
    changed = http.patch(
        "/v1/account", json={"currency": "cad", "locale": "fr-ca"}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["currency"], changed.json()["locale"]) == ("CAD", "fr-CA")
    name_only = http.patch("/v1/account", json={"name": "Renamed"}, headers=tenant.headers)
    assert (name_only.json()["name"], name_only.json()["currency"]) == ("Renamed", "CAD")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"currency": "DOLLARS"}, "currency", "'DOLLARS' is not an ISO 4217 currency code"),
        ({"currency": "ZZZ"}, "currency", "'ZZZ' is not an ISO 4217 currency code"),
        ({"locale": "en_US"}, "locale", "'en_US' is not a known BCP 47 locale"),
        ({"locale": "xx-QQ"}, "locale", "'xx-QQ' is not a known BCP 47 locale"),
    ],
)
def test_unknown_codes_are_a_422_problem_naming_the_field(
    http: httpx.Client,
    sessions: sessionmaker[Session],
    body: dict[str, str],
    field: str,
    message: str,
) -> None:
    tenant = make_tenant(sessions, currency="GBP", locale="en-GB")
    refused = http.patch("/v1/account", json=body, headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert error["field"] == field
    assert message in error["message"]
    kept = http.get("/v1/account", headers=tenant.headers).json()
    assert (kept["currency"], kept["locale"]) == ("GBP", "en-GB")
