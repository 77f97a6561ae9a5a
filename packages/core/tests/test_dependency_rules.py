"""docs/architecture.md, "Members and the rules between them": core and storage depend on
no workspace member; core talks to the outside only through Protocols (no boto3, stripe,
FastAPI or Typer imports)."""

import ast
from importlib.metadata import requires
from pathlib import Path

import counterpromo_core
import pytest

FORBIDDEN_IN_CORE = {"boto3", "botocore", "stripe", "fastapi", "starlette", "typer"}


@pytest.mark.parametrize("distribution", ["counterpromo-core"])
def test_declares_no_workspace_member(distribution: str) -> None:
    declared = [r for r in requires(distribution) or [] if "extra ==" not in r]
    assert not [r for r in declared if r.startswith("counterpromo-")]


def test_core_source_imports_no_adapter_library() -> None:
    root = Path(counterpromo_core.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN_IN_CORE
            ]
    assert offenders == []
