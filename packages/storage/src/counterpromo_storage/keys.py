"""Object keys under an account's prefix: ``{account_id}/...``.

Every key of tenant data starts with the account id, so a key built for one account can
never name another account's object; ``ensure_under_account`` refuses any key that
escapes the prefix before a request is made.
"""

from __future__ import annotations

import uuid


class KeyOutsideAccount(ValueError):  # noqa: N818 - reads as the condition it reports
    """A key is not under the account's prefix (or is not a safe key at all)."""


def _account_prefix(account_id: uuid.UUID | str) -> str:
    try:
        return f"{uuid.UUID(str(account_id))}/"
    except ValueError:
        raise KeyOutsideAccount(f"not an account id: {account_id!r}") from None


def _check_segment(segment: str) -> str:
    if not segment or segment in {".", ".."}:
        raise KeyOutsideAccount(f"invalid key segment {segment!r}")
    if any(ord(char) < 32 or ord(char) == 127 or char == "\\" for char in segment):
        raise KeyOutsideAccount(f"key segment {segment!r} contains a control character or '\\'")
    return segment


def account_key(account_id: uuid.UUID | str, *parts: str) -> str:
    """The key of ``parts`` under the account's prefix.

    ``account_key(acct, "uploads", upload_id, "prices.csv")`` is
    ``"{acct}/uploads/{upload_id}/prices.csv"``. A part may contain ``/`` to add several
    segments; empty, ``.`` and ``..`` segments are refused.
    """
    if not parts:
        raise KeyOutsideAccount("a key needs at least one part after the account id")
    segments = [_check_segment(s) for part in parts for s in str(part).split("/")]
    return _account_prefix(account_id) + "/".join(segments)


def ensure_under_account(account_id: uuid.UUID | str, key: str) -> str:
    """Return ``key`` if it names an object under the account's prefix, else raise."""
    prefix = _account_prefix(account_id)
    if not key.startswith(prefix) or len(key) > 1024:
        raise KeyOutsideAccount(f"key {key!r} is not under account {prefix[:-1]}")
    for segment in key[len(prefix) :].split("/"):
        _check_segment(segment)
    return key
