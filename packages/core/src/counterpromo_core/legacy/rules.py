"""How the original application's values map onto ours (pure functions, no database)."""

from __future__ import annotations

import re
from decimal import Decimal

from counterpromo_core.db.models import PROMO_STATUSES, PROMO_TEMPLATES
from counterpromo_core.roles import Role
from counterpromo_core.schemas import FONTS

# Roles we do not have become the nearest one with LESS power, never more.
ROLES: dict[str, Role] = {
    "owner": "owner",
    "admin": "admin",
    "member": "member",
    "marketing": "member",
    "branch_manager": "member",
}

# Original JobType -> ours; None: no counterpart (the job stays in legacy only).
JOB_TYPES: dict[str, str | None] = {
    "parse_upload": "parse_upload",
    "render_preview": "render_promo",
    "render_pdf": "render_promo",
    "render_social_image": "render_promo",
    "export_zip": "export_bundle",
    "generate_coop_report": "coop_report",
    "brand_bootstrap": None,
    "product_url_scrape": None,
    "generate_email": None,
}
# Original JobStatus -> ours. Jobs are carried as history: nothing will run them again.
JOB_STATUSES: dict[str, str] = {
    "done": "succeeded",
    "failed": "failed",
    "pending": "failed",
    "running": "failed",
}
NEVER_FINISHED = "never finished in the original application (adopted as history, not re-run)"

# Original AssetType -> (our kind, content type); None: no counterpart.
ASSET_KINDS: dict[str, tuple[str, str] | None] = {
    "pdf": ("pdf", "application/pdf"),
    "preview": ("png", "image/png"),
    "social_image": ("png", "image/png"),
    "zip": ("zip", "application/zip"),
    "coop_report": ("csv", "text/csv"),
    "email_html": None,
    "social_captions": None,
}

DEFAULT_TEMPLATE = "multi-product"

# The original application served UK dealers only and printed pounds: adopted accounts keep
# that (an operator changes it with `counterpromo accounts set-money`).
ADOPTED_CURRENCY = "GBP"
ADOPTED_LOCALE = "en-GB"
_HEX6 = re.compile(r"^#[0-9A-Fa-f]{6}$")
_HEX3 = re.compile(r"^#[0-9A-Fa-f]{3}$")
_MONEY_MAX = Decimal("9999999999.99")  # numeric(12, 2)


def role(value: str | None) -> tuple[Role, bool]:
    """Our role for an original one, and whether it has less power than the original."""
    mapped = ROLES.get(value or "", "member")
    return mapped, mapped != value


def template(value: str | None) -> tuple[str, bool]:
    """Our template for the original ``templateId``; True when it was not one of ours."""
    if value in PROMO_TEMPLATES:
        return value, False
    return DEFAULT_TEMPLATE, value is not None


def promo_status(value: str | None) -> str | None:
    return value if value in PROMO_STATUSES else None


def money_problem(value: Decimal | None, field: str) -> str | None:
    """Why ``value`` is not a valid amount, or None (NULL is valid: optional amounts)."""
    if value is None:
        return None
    if not value.is_finite():
        return f"{field} {value} is not a valid amount"
    if value < 0:
        return f"{field} {value} is negative"
    if value > _MONEY_MAX:
        return f"{field} {value} is too large"
    return None


def colour(value: object) -> str | None:
    """``#RRGGBB`` for a hex colour (``#RGB`` expanded), None when it is not one."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip()
    if _HEX6.match(cleaned):
        return cleaned
    if _HEX3.match(cleaned):
        return "#" + "".join(c * 2 for c in cleaned[1:])
    return None


def font(value: object) -> str | None:
    return value if isinstance(value, str) and value in FONTS else None


def too_long(values: dict[str, str | None], limits: dict[str, int]) -> str | None:
    """The first field longer than our column allows, as a reason."""
    for name, limit in limits.items():
        value = values.get(name)
        if value is not None and len(value) > limit:
            return f"{name} is {len(value)} characters, longer than {limit}"
    return None
