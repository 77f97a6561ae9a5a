"""Secret values as an operator may see them: kind and length, never the value."""

_TELLING_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_")


def mask(value: str) -> str:
    """``sk_live_****`` (shows test vs live), or ``**** (N chars)``."""
    for prefix in _TELLING_PREFIXES:
        if value.startswith(prefix):
            return f"{prefix}****"
    return f"**** ({len(value)} chars)"
