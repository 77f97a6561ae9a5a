"""Cells that a spreadsheet would run as a formula are written as text instead."""

from __future__ import annotations

# Excel, LibreOffice and Google Sheets treat a cell starting with one of these as a
# formula (or strip the tab/CR and then do). A leading apostrophe makes it text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
