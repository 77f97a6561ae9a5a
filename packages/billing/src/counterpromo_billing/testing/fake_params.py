"""The fake Stripe's request checks: Stripe-shaped errors, parameters, pagination.

Errors are what the SDK expects (``{"error": {"type", "code", "message", "param"}}``):
an unknown parameter, a bad ``limit`` or a cursor that names no object is a 400
``invalid_request_error`` naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any

from counterpromo_billing.testing import shapes


class StripeHTTPError(Exception):
    """Answered to the client as a Stripe-shaped JSON error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = shapes.error_body(message, error_type=error_type, code=code, param=param)


def missing(kind: str, object_id: str) -> StripeHTTPError:
    return StripeHTTPError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
    )


def required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise StripeHTTPError(
            400, f"Missing required param: {name}.", code="parameter_missing", param=name
        )
    return value


def route_path(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^{pattern}$")


NO_PARAMS: frozenset[str] = frozenset()
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before"})
CUSTOMER_FIELDS = frozenset({"name", "email", "metadata", "description", "phone", "address"})
CHECKOUT_FIELDS = frozenset(
    {
        "mode",
        "success_url",
        "cancel_url",
        "line_items",
        "customer",
        "customer_email",
        "customer_update",
        "client_reference_id",
        "metadata",
        "subscription_data",
        "allow_promotion_codes",
        "billing_address_collection",
        "automatic_tax",
        "tax_id_collection",
        "locale",
        "ui_mode",
        "expires_at",
        "payment_method_types",
    }
)
SUBSCRIPTION_UPDATE_FIELDS = frozenset(
    {
        "cancel_at_period_end",
        "cancel_at",
        "cancellation_details",
        "items",
        "proration_behavior",
        "metadata",
        "default_payment_method",
        "payment_behavior",
    }
)
MAX_LIMIT = 100


def invalid(param: str, message: str, code: str = "parameter_invalid") -> StripeHTTPError:
    return StripeHTTPError(400, message, code=code, param=param)


def check_params(params: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    """Stripe's "Received unknown parameter" for anything the endpoint does not take.

    Returns the ``expand[]`` paths (allowed everywhere).
    """
    for name in params:
        if name != "expand" and name not in allowed:
            raise invalid(name, f"Received unknown parameter: {name}", "parameter_unknown")
    expand = params.get("expand", [])
    if isinstance(expand, str):
        expand = [expand]
    if not isinstance(expand, list) or not all(isinstance(e, str) for e in expand):
        raise invalid("expand", "Invalid array", "parameter_invalid")
    return expand


def form_flag(params: dict[str, Any], name: str) -> bool | None:
    """A form boolean (``true``/``false``); 400 for anything else."""
    value = params.get(name)
    if value is None:
        return None
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise invalid(name, f"Invalid boolean: {value}", "parameter_invalid_boolean")


def item_price(params: dict[str, Any], sub: dict[str, Any]) -> str | None:
    """The new price of ``items[0]`` (one item per subscription), if the update sets one."""
    items = params.get("items")
    if items is None:
        return None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid("items", "Invalid array: give exactly one item", "parameter_invalid")
    item = items[0]
    unknown = set(item) - {"id", "price", "quantity"}
    if unknown:
        name = sorted(unknown)[0]
        raise invalid(f"items[0][{name}]", f"Received unknown parameter: items[0][{name}]")
    if item.get("id") not in (None, sub["items"]["data"][0]["id"]):
        raise StripeHTTPError(
            400,
            f"No such subscription item: '{item['id']}'",
            code="resource_missing",
            param="items[0][id]",
        )
    price = item.get("price")
    if price is not None and not str(price).startswith("price_"):
        raise StripeHTTPError(
            400, f"No such price: '{price}'", code="resource_missing", param="items[0][price]"
        )
    return str(price) if price is not None else None


def _limit(params: dict[str, Any]) -> int:
    raw = params.get("limit")
    if raw is None:
        return 10
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise invalid("limit", f"Invalid integer: {raw}", "parameter_invalid_integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(
            "limit",
            f"This value must be greater than or equal to 1 and less than or equal to "
            f"{MAX_LIMIT} ({limit}).",
            "parameter_invalid_integer",
        )
    return limit


def _cursor_index(ordered: list[dict[str, Any]], params: dict[str, Any], name: str) -> int:
    cursor = params[name]
    for index, obj in enumerate(ordered):
        if obj["id"] == cursor:
            return index
    raise StripeHTTPError(400, f"No such object: '{cursor}'", code="resource_missing", param=name)


def page(objects: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """A list page, newest first, with ``limit``, ``starting_after``, ``ending_before``."""
    limit = _limit(params)
    ordered = sorted(objects, key=lambda o: (o["created"], o["id"]), reverse=True)
    if params.get("starting_after") and params.get("ending_before"):
        raise invalid(
            "ending_before",
            "You may only specify one of these parameters: starting_after, ending_before.",
        )
    if params.get("starting_after"):
        rest = ordered[_cursor_index(ordered, params, "starting_after") + 1 :]
        return _list(rest[:limit], url, len(rest) > limit)
    if params.get("ending_before"):
        before = ordered[: _cursor_index(ordered, params, "ending_before")]
        return _list(before[-limit:], url, len(before) > limit)
    return _list(ordered[:limit], url, len(ordered) > limit)


def _list(data: list[dict[str, Any]], url: str, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


__all__ = [
    "CHECKOUT_FIELDS",
    "CUSTOMER_FIELDS",
    "LIST_PARAMS",
    "MAX_LIMIT",
    "NO_PARAMS",
    "SUBSCRIPTION_UPDATE_FIELDS",
    "StripeHTTPError",
    "check_params",
    "form_flag",
    "invalid",
    "item_price",
    "missing",
    "page",
    "required",
    "route_path",
]
