"""The one error adoption raises on purpose: what went wrong, where, and what to do."""

from __future__ import annotations


class AdoptionError(Exception):
    """Adoption cannot go on; nothing was changed (the transaction is rolled back).

    ``message`` is written for the operator: what, on which table or row, what to do.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
