"""Bump one member's version and re-pin it in every member that depends on it.

    uv run nox -s bump -- counterpromo-core minor      # 0.1.0 -> 0.2.0
    uv run nox -s bump -- counterpromo-billing patch   # 0.1.0 -> 0.1.1
    uv run nox -s bump -- counterpromo-storage 1.0.0   # an explicit version

What it writes (and nothing else; review with ``git diff``, then ``uv lock``):

- the member's ``version`` in its pyproject.toml;
- its CHANGELOG.md: the ``## Unreleased`` notes become ``## <version> - <date>`` under a
  fresh, empty ``## Unreleased``;
- in every other member's ``[project]`` dependencies and optional dependencies, the pin
  ``name>=<version>,<next breaking>`` (0.x: the next minor; from 1.0: the next major), and a
  line under that member's ``## Unreleased`` saying so (a dependent whose pin moved needs a
  release of its own: the release process says when).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = {
    "counterpromo-core": "packages/core",
    "counterpromo-storage": "packages/storage",
    "counterpromo-billing": "packages/billing",
    "counterpromo-testing": "packages/testing",
    "counterpromo-api": "services/api",
    "counterpromo-worker": "services/worker",
    "counterpromo-cli": "tools/cli",
}
PARTS = ("major", "minor", "patch")
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class BumpError(ValueError):
    """The request cannot be carried out (unknown member, bad version, no changelog)."""


def parse(version: str) -> tuple[int, int, int]:
    match = VERSION.match(version)
    if match is None:
        raise BumpError(f"{version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def next_version(current: str, how: str) -> str:
    """``how`` is major, minor, patch or an explicit version greater than ``current``."""
    major, minor, patch = parse(current)
    if how == "major":
        return f"{major + 1}.0.0"
    if how == "minor":
        return f"{major}.{minor + 1}.0"
    if how == "patch":
        return f"{major}.{minor}.{patch + 1}"
    if parse(how) <= (major, minor, patch):
        raise BumpError(f"{how} is not newer than {current}")
    return how


def compatible_range(version: str) -> str:
    """The versions that keep ``version``'s API: up to the next minor in 0.x, else major."""
    major, minor, _ = parse(version)
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={version},<{upper}"


def _project_table_span(text: str) -> tuple[int, int]:
    """Where ``[project]`` and its sub-tables end: pins are rewritten there only."""
    start = text.index("[project]")
    following = re.search(r"^\[(?!project[.\]])", text[start + 1 :], flags=re.MULTILINE)
    end = start + 1 + following.start() if following else len(text)
    return start, end


def repin(text: str, name: str, version: str) -> str:
    """``text`` (a pyproject.toml) with every ``[project]`` requirement on ``name`` re-pinned."""
    start, end = _project_table_span(text)
    pattern = re.compile(rf'"{re.escape(name)}(\[[a-z,]+\])?(?:[<>=!~][^"]*)?"')
    section = pattern.sub(
        lambda m: f'"{name}{m.group(1) or ""}{compatible_range(version)}"', text[start:end]
    )
    return text[:start] + section + text[end:]


def release_changelog(text: str, version: str, today: dt.date) -> str:
    if "## Unreleased" not in text:
        raise BumpError("the changelog has no '## Unreleased' section")
    return text.replace("## Unreleased", f"## Unreleased\n\n## {version} - {today.isoformat()}", 1)


def note_unreleased(text: str, line: str) -> str:
    if "## Unreleased" not in text:
        raise BumpError("the changelog has no '## Unreleased' section")
    return text.replace("## Unreleased\n", f"## Unreleased\n\n- {line}\n", 1)


def bump(root: Path, name: str, how: str, today: dt.date) -> list[Path]:
    """Apply the bump under ``root``; returns the files written."""
    if name not in MEMBERS:
        raise BumpError(f"unknown member {name!r}; members: {', '.join(MEMBERS)}")
    pyproject = root / MEMBERS[name] / "pyproject.toml"
    text = pyproject.read_text()
    current = tomllib.loads(text)["project"]["version"]
    new = next_version(current, how)
    written = [pyproject]
    pyproject.write_text(
        re.sub(r'^version = "[^"]*"', f'version = "{new}"', text, count=1, flags=re.MULTILINE)
    )
    changelog = root / MEMBERS[name] / "CHANGELOG.md"
    changelog.write_text(release_changelog(changelog.read_text(), new, today))
    written.append(changelog)
    for other, path in MEMBERS.items():
        if other == name:
            continue
        other_pyproject = root / path / "pyproject.toml"
        before = other_pyproject.read_text()
        after = repin(before, name, new)
        if after != before:
            other_pyproject.write_text(after)
            other_changelog = root / path / "CHANGELOG.md"
            other_changelog.write_text(
                note_unreleased(
                    other_changelog.read_text(), f"Requires {name} {compatible_range(new)}."
                )
            )
            written += [other_pyproject, other_changelog]
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("member", help="distribution name, e.g. counterpromo-core")
    parser.add_argument("how", help="major, minor, patch or an explicit MAJOR.MINOR.PATCH")
    args = parser.parse_args(argv)
    try:
        written = bump(ROOT, args.member, args.how, dt.datetime.now(dt.UTC).date())
    except BumpError as exc:
        raise SystemExit(f"bump: {exc}") from None
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    print("next: review `git diff`, run `uv lock`, commit; docs/releasing.md has the rest")


if __name__ == "__main__":
    main()
