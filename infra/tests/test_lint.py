"""cfn-lint and checkov pass on the synthesized templates and fail on broken copies (the
same runs as ``nox -s infra``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

BIN = Path(sys.executable).parent
# Named AZs: synthesis is offline (no lookups). Also in noxfile's CFN_LINT_IGNORED.
CFN_LINT_IGNORED = "W3010"


def _write(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(body))
    return path


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "cfn-lint", "--ignore-checks", CFN_LINT_IGNORED, "--", path],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def checkov(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "checkov", "-f", path, "--framework", "cloudformation", "--compact", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def body(dev: Template) -> dict[str, Any]:
    return dict(dev.to_json())


def test_cfn_lint_passes_and_fails_on_a_broken_copy(body: dict[str, Any], tmp_path: Path) -> None:
    result = cfn_lint(_write(tmp_path, body))
    assert result.returncode == 0, result.stdout
    broken = json.loads(json.dumps(body))
    queue = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::SQS::Queue")
    queue["Properties"]["VisibilityTimeout"] = 99999  # above SQS's 12 hours
    result = cfn_lint(_write(tmp_path, broken))
    assert result.returncode != 0
    assert "E3034 99999 is greater than the maximum of 43200" in result.stdout


def test_checkov_passes_and_fails_without_the_skips(body: dict[str, Any], tmp_path: Path) -> None:
    result = checkov(_write(tmp_path, body))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Failed checks: 0" in result.stdout
    broken = json.loads(json.dumps(body))
    for resource in broken["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    result = checkov(_write(tmp_path, broken))
    assert result.returncode != 0
    assert "CKV_AWS_27" in result.stdout
