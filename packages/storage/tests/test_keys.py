"""Keys are built under the account's prefix; anything else is refused."""

from __future__ import annotations

import uuid

import pytest
from counterpromo_storage.keys import KeyOutsideAccount, account_key, ensure_under_account

ACCOUNT = uuid.UUID("6f1c1a52-8d0e-4a53-9a4e-2f1f3c1d2b7a")
OTHER = uuid.UUID("0b7e9f0e-3c1d-4c7e-8a55-5d8f6e1a9c20")


def test_account_key_joins_parts_under_the_account() -> None:
    assert account_key(ACCOUNT, "uploads", "u1", "prices.csv") == f"{ACCOUNT}/uploads/u1/prices.csv"
    assert account_key(str(ACCOUNT), "exports/2026") == f"{ACCOUNT}/exports/2026"


@pytest.mark.parametrize("part", ["", "..", ".", "a//b", "../x", "a\\b", "a\nb"])
def test_account_key_refuses_unsafe_parts(part: str) -> None:
    with pytest.raises(KeyOutsideAccount):
        account_key(ACCOUNT, "uploads", part)


def test_account_key_needs_a_real_account_id_and_a_part() -> None:
    with pytest.raises(KeyOutsideAccount, match="not an account id"):
        account_key("../etc", "x")
    with pytest.raises(KeyOutsideAccount, match="at least one part"):
        account_key(ACCOUNT)


def test_ensure_under_account_accepts_own_keys() -> None:
    key = account_key(ACCOUNT, "assets", "logo.png")
    assert ensure_under_account(ACCOUNT, key) == key


@pytest.mark.parametrize(
    "key",
    [
        f"{OTHER}/assets/logo.png",
        f"{ACCOUNT}",
        f"{ACCOUNT}/",
        f"{ACCOUNT}x/assets/logo.png",
        f"{ACCOUNT}/../{OTHER}/logo.png",
        f"/{ACCOUNT}/logo.png",
        "logo.png",
    ],
)
def test_ensure_under_account_refuses_other_keys(key: str) -> None:
    with pytest.raises(KeyOutsideAccount):
        ensure_under_account(ACCOUNT, key)
