"""Which characters the bundled fonts can draw, and refusing text with any other.

A character no bundled font has would print as an empty box (tofu), so a promo whose
text holds one (Chinese, Japanese, emoji, Arabic, ...) is refused with a RenderError
naming the characters and where they are, before anything is laid out. What can be
drawn is read from the character map (``cmap``) of Noto Sans, the fallback face of
every font stack (see ``fonts``): every Latin letter of the European languages, Greek
and Cyrillic.
"""

from __future__ import annotations

import struct
import unicodedata
from decimal import Decimal
from functools import cache

from counterpromo_core.money import format_money

from counterpromo_worker.rendering.fonts import bundled_sans
from counterpromo_worker.rendering.models import RenderError, RenderInput

# Characters that are never drawn, so never need a glyph: controls and format
# characters (zero-width joiners, direction marks, ...).
_INVISIBLE = frozenset({"Cc", "Cf"})
_SHOWN_PER_FIELD = 5


@cache
def printable_codepoints() -> frozenset[int]:
    """Code points with a glyph in the bundled Noto Sans."""
    return frozenset(cmap_codepoints(bundled_sans().read_bytes()))


def unprintable(text: str | None) -> list[str]:
    """The distinct characters of ``text`` the bundled fonts cannot draw, in order."""
    if not text:
        return []
    printable = printable_codepoints()
    missing: dict[str, None] = {}
    for char in text:
        if ord(char) in printable or char.isspace():
            continue
        if unicodedata.category(char) in _INVISIBLE:
            continue
        missing[char] = None
    return list(missing)


def describe(chars: list[str]) -> str:
    shown = [f"'{char}' (U+{ord(char):04X})" for char in chars[:_SHOWN_PER_FIELD]]
    more = len(chars) - _SHOWN_PER_FIELD
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def check_printable(data: RenderInput) -> None:
    """Raise RenderError naming every field whose text the flyer's fonts cannot draw."""
    fields: list[tuple[str, str | None]] = [
        ("the title", data.title),
        ("the subhead", data.subhead),
        ("the call to action", data.cta),
        ("the brand strapline", data.brand.strapline),
    ]
    # Prices are written the locale's way (e.g. ja-JP's fullwidth yen sign): a sample amount
    # shows whether the fonts can draw them.
    sample = format_money(Decimal("1234.56"), data.currency, data.locale)
    fields.append((f"the prices in {data.currency} written for {data.locale} ({sample})", sample))
    if data.branch is not None:
        fields += [
            ("the branch name", data.branch.name),
            ("the branch address", data.branch.address),
            ("the branch phone", data.branch.phone),
        ]
    for number, item in enumerate(data.items, start=1):
        where = f"item {number} ({item.name[:40]!r})"
        fields += [
            (where, item.name),
            (f"the SKU of {where}", item.sku),
            (f"the unit of {where}", item.unit),
            (f"the category of {where}", item.category),
            (f"the vendor of {where}", item.vendor),
        ]
    problems = [
        f"{where}: {describe(chars)}" for where, text in fields if (chars := unprintable(text))
    ]
    if problems:
        listed = "; ".join(problems[:_SHOWN_PER_FIELD])
        more = len(problems) - _SHOWN_PER_FIELD
        raise RenderError(
            "the flyer's fonts cannot print these characters (Latin, Greek and Cyrillic "
            f"text prints; other scripts and emoji do not yet): {listed}"
            + (f"; and {more} more places" if more > 0 else "")
        )


def cmap_codepoints(font: bytes) -> set[int]:
    """Code points mapped to a real glyph by a TrueType/OpenType font's Unicode cmap."""
    tables = _table_directory(font)
    if "cmap" not in tables:
        raise ValueError("the font has no cmap table")
    base = tables["cmap"]
    (count,) = struct.unpack_from(">H", font, base + 2)
    subtables: dict[tuple[int, int], int] = {}
    for index in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", font, base + 4 + 8 * index)
        subtables[(platform, encoding)] = base + offset
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key in subtables:
            offset = subtables[key]
            (form,) = struct.unpack_from(">H", font, offset)
            if form == 12:
                return _format_12(font, offset)
            if form == 4:
                return _format_4(font, offset)
    raise ValueError("the font has no Unicode cmap of format 4 or 12")


def _table_directory(font: bytes) -> dict[str, int]:
    (count,) = struct.unpack_from(">H", font, 4)
    tables = {}
    for index in range(count):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", font, 12 + 16 * index)
        tables[tag.decode("latin-1")] = offset
    return tables


def _format_12(font: bytes, offset: int) -> set[int]:
    (groups,) = struct.unpack_from(">I", font, offset + 12)
    points: set[int] = set()
    for index in range(groups):
        start, end, glyph = struct.unpack_from(">III", font, offset + 16 + 12 * index)
        points.update(range(start if glyph else start + 1, end + 1))
    return points


def _format_4(font: bytes, offset: int) -> set[int]:
    (seg_x2,) = struct.unpack_from(">H", font, offset + 6)
    segments = seg_x2 // 2
    ends_at = offset + 14
    starts_at = ends_at + seg_x2 + 2
    deltas_at = starts_at + seg_x2
    ranges_at = deltas_at + seg_x2
    points: set[int] = set()
    for index in range(segments):
        end, start, delta, range_offset = (
            struct.unpack_from(">H", font, at + 2 * index)[0]
            for at in (ends_at, starts_at, deltas_at, ranges_at)
        )
        for code in range(start, end + 1):
            if code == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                at = ranges_at + 2 * index + range_offset + 2 * (code - start)
                (glyph,) = struct.unpack_from(">H", font, at)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                points.add(code)
    return points
