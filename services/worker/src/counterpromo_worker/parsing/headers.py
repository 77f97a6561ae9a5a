"""Which column of the file feeds which field of an item.

The column mapping a dealer sends has one direction: ``{column header: item field}``
(for example ``{"Stock No": "sku"}``), the same as the ``columns`` a parse job reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from counterpromo_core.uploads import MAPPABLE_FIELDS

from counterpromo_worker.parsing.models import UnreadableFile

# Our field -> header spellings we recognise, best first. Headers are compared
# after normalise_header: lower case, "#" and "number" read as "no", everything but
# letters and digits dropped; so "Item #", "Item No." and "ITEM_NUMBER" are all
# "itemno". The spellings cover common US, UK and Canadian dealer and ERP exports.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "productname", "itemname", "product", "title", "description", "desc",
        "productdescription", "productdesc", "itemdescription", "itemdesc", "longdescription",
        "shortdescription", "partdescription", "item",
    ),
    "sale_price": (
        "saleprice", "ourprice", "promoprice", "offerprice", "nowprice", "specialprice",
        "sellprice", "sellingprice", "promotionalprice", "promotionprice", "salesprice",
        "sale", "promo", "now", "special", "offer", "price", "unitprice", "netprice", "net",
        "yourprice", "dealprice",
    ),
    "sku": (
        "sku", "itemno", "partno", "productno", "articleno", "stockno", "catalogno",
        "catalogueno", "modelno", "code", "itemcode", "productcode", "partcode", "stockcode",
        "part", "article", "itemid", "productid", "ref", "reference", "upc", "item",
    ),
    "unit": ("unit", "uom", "unitofmeasure", "unitofmeasurement", "units", "per", "sellunit",
             "pack", "packsize"),
    "category": ("category", "department", "dept", "productgroup", "group", "range", "class",
                 "productcategory", "family"),
    "vendor": ("vendor", "brand", "manufacturer", "mfr", "mfg", "mfgr", "supplier", "make",
               "vendorname", "brandname", "manufacturername", "suppliername"),
    "rrp": (
        "rrp", "regprice", "regularprice", "regular", "reg", "wasprice", "was", "listprice",
        "list", "msrp", "srp", "retailprice", "retail", "rrpprice", "compareatprice",
    ),
    "coop_vendor": ("coopvendor", "cooppartner"),
    "coop_amount": ("coopamount", "coopfunding", "coopfund"),
    "coop_note": ("coopnote", "coopnotes"),
    # The file name of a picture uploaded before ("drill.jpg"); the item gets that picture.
    "image": ("image", "imagefile", "imagename", "imagefilename", "picture", "photo", "img",
              "productimage", "itemimage", "filename"),
}  # fmt: skip
REQUIRED = ("name", "sale_price")
# The header row is the first usable one among the first rows (title blocks sit above it).
HEADER_SEARCH_ROWS = 20
assert set(SYNONYMS) == set(MAPPABLE_FIELDS)  # noqa: S101 - one list of fields for core and us


@dataclass(frozen=True)
class ColumnChoice:
    """Our field -> column index, and the non-blank headers no field took."""

    fields: dict[str, int]
    ignored: list[str]


_NUMBER_WORDS = frozenset({"no", "number", "num", "nbr", "nr"})


def normalise_header(header: str) -> str:
    words = re.split(r"[^0-9a-z]+", header.lower().replace("#", " no "))
    return "".join("no" if word in _NUMBER_WORDS else word for word in words)


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Refuse a mapping that is not ``{column: field}``, with the reason in plain words."""
    seen: dict[str, str] = {}
    for column, field in mapping.items():
        if field not in MAPPABLE_FIELDS:
            hint = (
                f' (the mapping goes {{column: field}}: did you mean {{"{field}": "{column}"}}?)'
                if column in MAPPABLE_FIELDS
                else ""
            )
            raise UnreadableFile(
                f"the column mapping sends {column!r} to {field!r}, which is not an item "
                f"field{hint}; the fields are: {', '.join(MAPPABLE_FIELDS)}"
            )
        if field in seen:
            raise UnreadableFile(
                f"the column mapping sends both {seen[field]!r} and {column!r} to {field}"
            )
        seen[field] = column


def match_columns(headers: Sequence[str], mapping: Mapping[str, str] | None) -> ColumnChoice | None:
    """The columns of ``headers`` when it is a usable header row, else None.

    An explicit ``{column: field}`` mapping wins; the rest is matched by name.
    A row is usable when every mapped column is in it and a name and a price
    column were found.
    """
    index_by_header: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if key:
            index_by_header.setdefault(key, index)

    chosen: dict[str, int] = {}
    for column, field in (mapping or {}).items():
        found = index_by_header.get(normalise_header(column))
        if found is None:
            return None
        chosen[field] = found

    for field, spellings in SYNONYMS.items():
        if field in chosen:
            continue
        taken = set(chosen.values())
        for spelling in spellings:
            match = index_by_header.get(spelling)
            if match is not None and match not in taken:
                chosen[field] = match
                break

    if any(field not in chosen for field in REQUIRED):
        return None
    used = set(chosen.values())
    ignored = [h for i, h in enumerate(headers) if h.strip() and i not in used]
    return ColumnChoice(fields=chosen, ignored=ignored)


def no_header_found(
    filename: str, candidate: Sequence[str] | None, mapping: Mapping[str, str] | None
) -> UnreadableFile:
    """The refusal for a file none of whose first rows is a usable header row."""
    if candidate is None:
        return UnreadableFile(f"{filename!r} has no header row (it looks empty)")
    shown = _listing(candidate)
    if mapping:
        normalised = {normalise_header(h) for h in candidate}
        absent = [c for c in mapping if normalise_header(c) not in normalised]
        if absent:
            return UnreadableFile(
                f"the column mapping names {_listing(absent)}, but {filename!r} has no such "
                f"column in its first {HEADER_SEARCH_ROWS} rows; its first row reads: {shown}"
            )
    return UnreadableFile(
        f"{filename!r} has no header row with a product name column and a price column "
        f"in its first {HEADER_SEARCH_ROWS} rows; its first row reads: {shown}. "
        "Name the columns (for example Description and Price) or send a column mapping "
        '({"your column": "name", "your price column": "sale_price"})'
    )


def _listing(headers: Sequence[str]) -> str:
    shown = [repr(h) for h in headers if h.strip()][:20]
    return ", ".join(shown) if shown else "(none)"
