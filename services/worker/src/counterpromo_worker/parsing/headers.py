"""Which column of the file feeds which field of an item."""

from __future__ import annotations

import re
from collections.abc import Sequence

from counterpromo_worker.parsing.models import UnreadableFile

# Our field -> header spellings we recognise, best first. Headers are compared
# after lower-casing and dropping everything but letters and digits, so
# "Sale Price", "sale_price" and "SALE-PRICE" are all "saleprice".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "productname", "itemname", "product", "title", "description",
        "productdescription", "itemdescription", "item",
    ),
    "sale_price": (
        "saleprice", "ourprice", "promoprice", "offerprice", "nowprice", "specialprice",
        "sellprice", "sellingprice", "price", "now", "unitprice",
    ),
    "sku": (
        "sku", "code", "itemcode", "productcode", "partnumber", "partno", "part",
        "articlenumber", "stockcode", "ref", "reference",
    ),
    "unit": ("unit", "uom", "unitofmeasure", "units", "per"),
    "category": ("category", "department", "productgroup", "group", "range"),
    "vendor": ("vendor", "brand", "manufacturer", "supplier", "make", "mfr"),
    "rrp": ("rrp", "wasprice", "was", "listprice", "msrp", "retailprice", "rrpprice"),
    "coop_vendor": ("coopvendor", "cooppartner"),
    "coop_amount": ("coopamount", "coopfunding", "coopfund"),
    "coop_note": ("coopnote", "coopnotes"),
}  # fmt: skip
REQUIRED = ("name", "sale_price")


def normalise_header(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.lower())


def map_columns(headers: Sequence[str], mapping: dict[str, str] | None) -> dict[str, int]:
    """Our field -> column index. An explicit mapping wins; the rest is matched by name."""
    index_by_header: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if key:
            index_by_header.setdefault(key, index)

    chosen: dict[str, int] = {}
    for field, source in (mapping or {}).items():
        if field not in SYNONYMS:
            raise UnreadableFile(
                f"the column mapping names an unknown field {field!r}; "
                f"known fields: {', '.join(SYNONYMS)}"
            )
        found = index_by_header.get(normalise_header(source))
        if found is None:
            raise UnreadableFile(
                f"the column mapping reads {field} from {source!r}, but the file has no such "
                f"column; its columns are: {_listing(headers)}"
            )
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

    missing = [field for field in REQUIRED if field not in chosen]
    if missing:
        wanted = " and ".join(f"a {field.replace('_', ' ')} column" for field in missing)
        raise UnreadableFile(
            f"no {wanted} could be recognised; the file's columns are: {_listing(headers)}. "
            "Name the columns (for example Name and Price) or send a column mapping"
        )
    return chosen


def _listing(headers: Sequence[str]) -> str:
    shown = [repr(h) for h in headers if h.strip()][:20]
    return ", ".join(shown) if shown else "(none)"
