"""Decoding Stripe's form-encoded request parameters (``a[b][0][c]=v``) into nested data."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter name that is not in Stripe's bracket syntax."""


def _path(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        raise FormError(f"malformed parameter name {key!r}")
    return [match.group(1), *_PART.findall(match.group(2))]


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


def decode_form(body: str) -> dict[str, Any]:
    """Nested params: ``metadata[k]=x&line_items[0][price]=p`` -> dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _path(key)
        node = root
        for index, part in enumerate(parts[:-1]):
            following = parts[index + 1]
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            if following == "":
                following = str(len(child))
                parts[index + 1] = following
            node = child
        last = parts[-1] if parts[-1] != "" else str(len(node))
        node[last] = value
    result = _listify(root)
    assert isinstance(result, dict)  # noqa: S101 - the root is always a mapping
    return result


__all__ = ["FormError", "decode_form"]
