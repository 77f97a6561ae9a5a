"""The bump command on a copy of the real members: version, changelog, dependents' pins."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bump_version", ROOT / "scripts/bump_version.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bump_version"] = module
    spec.loader.exec_module(module)
    return module


bump_version = _load()
TODAY = dt.date(2026, 12, 2)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for path in bump_version.MEMBERS.values():
        (tmp_path / path).mkdir(parents=True)
        for name in ("pyproject.toml", "CHANGELOG.md"):
            shutil.copy(ROOT / path / name, tmp_path / path / name)
    return tmp_path


def _project(tree: Path, path: str) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((tree / path / "pyproject.toml").read_text())[
        "project"
    ]
    return project


def test_a_minor_bump_of_core_repins_every_dependent(tree: Path) -> None:
    before = str(_project(tree, "packages/core")["version"])
    new = bump_version.next_version(before, "minor")
    written = bump_version.bump(tree, "counterpromo-core", "minor", TODAY)
    assert _project(tree, "packages/core")["version"] == new
    pin = f"counterpromo-core{bump_version.compatible_range(new)}"
    for path in ("packages/storage",):  # storage does not depend on core
        assert tree / path / "pyproject.toml" not in written
    for path in ("packages/billing", "packages/testing", "services/api", "tools/cli"):
        dependencies = _project(tree, path)["dependencies"]
        assert isinstance(dependencies, list)
        assert pin in dependencies, path
        assert (
            f"- Requires {pin.replace('core>', 'core >')}."
            in (tree / path / "CHANGELOG.md").read_text()
        )
    changelog = (tree / "packages/core/CHANGELOG.md").read_text()
    assert f"## Unreleased\n\n## {new} - 2026-12-02" in changelog


def test_extras_keep_their_extra_and_dependency_groups_are_left_alone(tree: Path) -> None:
    bump_version.bump(tree, "counterpromo-storage", "2.0.0", TODAY)
    cli = (tree / "tools/cli/pyproject.toml").read_text()
    assert '"counterpromo-storage[testing]>=2.0.0,<3"' in cli
    billing = (tree / "packages/billing/pyproject.toml").read_text()
    assert '"counterpromo-storage>=2.0.0,<3"' in billing
    assert '    "counterpromo-storage[testing]",\n' in billing  # the dev group: unpinned


@pytest.mark.parametrize(
    ("current", "how", "expected"),
    [("0.1.0", "patch", "0.1.1"), ("0.1.3", "minor", "0.2.0"), ("0.9.1", "major", "1.0.0")],
)
def test_next_version(current: str, how: str, expected: str) -> None:
    assert bump_version.next_version(current, how) == expected


def test_compatible_ranges() -> None:
    assert bump_version.compatible_range("0.2.0") == ">=0.2.0,<0.3"
    assert bump_version.compatible_range("1.4.2") == ">=1.4.2,<2"


@pytest.mark.parametrize("how", ["0.1.0", "0.0.9", "one", "1.2"])
def test_a_version_that_is_not_newer_or_not_a_version_is_refused(how: str) -> None:
    with pytest.raises(bump_version.BumpError):
        bump_version.next_version("0.1.0", how)


def test_an_unknown_member_is_refused(tree: Path) -> None:
    with pytest.raises(bump_version.BumpError, match="unknown member"):
        bump_version.bump(tree, "counterpromo-nope", "minor", TODAY)
