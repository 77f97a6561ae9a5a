"""How the original application's values map onto ours (pure rules, no database)."""

from decimal import Decimal

import pytest
from counterpromo_core.db.models import ASSET_KINDS, JOB_STATUSES, JOB_TYPES, PROMO_TEMPLATES
from counterpromo_core.legacy import rules
from counterpromo_core.roles import ROLES

_RANK = {"member": 0, "admin": 1, "owner": 2}
# The original's UserRole, with the power each had (owner > admin > the rest).
_ORIGINAL_RANK = {"owner": 2, "admin": 1, "member": 0, "marketing": 0, "branch_manager": 0}


@pytest.mark.parametrize("original", sorted(_ORIGINAL_RANK))
def test_a_role_never_gains_power(original: str) -> None:
    mapped, lowered = rules.role(original)
    assert mapped in ROLES
    assert _RANK[mapped] <= _ORIGINAL_RANK[original]
    assert lowered == (mapped != original)


def test_an_unknown_role_becomes_member() -> None:
    assert rules.role("superuser") == ("member", True)
    assert rules.role(None) == ("member", True)


def test_job_and_asset_mappings_only_name_our_values() -> None:
    assert {v for v in rules.JOB_TYPES.values() if v} <= set(JOB_TYPES)
    assert set(rules.JOB_STATUSES.values()) <= set(JOB_STATUSES)
    assert {v[0] for v in rules.ASSET_KINDS.values() if v} <= set(ASSET_KINDS)
    # Nothing is left queued: carried jobs are history and must never run again.
    assert "queued" not in rules.JOB_STATUSES.values()
    assert "running" not in rules.JOB_STATUSES.values()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.00"), None),
        (Decimal("6.50"), None),
        (None, None),
        (Decimal("NaN"), "price NaN is not a valid amount"),
        (Decimal("-0.01"), "price -0.01 is negative"),
        (Decimal("10000000000.00"), "price 10000000000.00 is too large"),
    ],
)
def test_money(value: Decimal | None, expected: str | None) -> None:
    assert rules.money_problem(value, "price") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#0A3D62", "#0A3D62"),
        (" #f5a623 ", "#f5a623"),
        ("#fFf", "#ffFFff"),
        ("red", None),
        ("#12345", None),
        (123, None),
        ({"hex": "#000000"}, None),
    ],
)
def test_colour(value: object, expected: str | None) -> None:
    assert rules.colour(value) == expected


def test_template_keeps_ours_and_replaces_the_rest() -> None:
    for ours in PROMO_TEMPLATES:
        assert rules.template(ours) == (ours, False)
    assert rules.template(None) == (rules.DEFAULT_TEMPLATE, False)
    assert rules.template("tpl_custom_1") == (rules.DEFAULT_TEMPLATE, True)


def test_too_long_names_the_first_field_over_its_limit() -> None:
    limits = {"title": 5, "cta": 3}
    assert rules.too_long({"title": "Short", "cta": None}, limits) is None
    assert rules.too_long({"title": "Longer", "cta": "abcd"}, limits) == (
        "title is 6 characters, longer than 5"
    )
