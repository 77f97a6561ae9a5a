"""cdk-nag's AwsSolutions pack passes (every suppression has a reason) and fails without
the suppressions; synthesis is offline and uses the locked Node.js."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from aws_cdk import Aspects
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks
from counterpromo_infra.app import build
from counterpromo_infra.cli import main
from counterpromo_infra.node import packaged_node
from counterpromo_infra.settings import EnvSettings
from counterpromo_infra.testing import stack_of

NAG = Match.string_like_regexp("AwsSolutions-.*")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_aws_solutions_pack_has_no_unsuppressed_finding(env: str) -> None:
    annotations = Annotations.from_stack(stack_of(env))
    assert annotations.find_error("*", NAG) == []
    assert annotations.find_warning("*", NAG) == []


def test_the_pack_fails_without_the_suppressions() -> None:
    stack = build(EnvSettings(env="dev", account="111111111111"), nag=False)
    Aspects.of(stack).add(AwsSolutionsChecks())
    errors = Annotations.from_stack(stack).find_error("*", NAG)
    rules = {m for e in errors for m in re.findall(r"AwsSolutions-[A-Z]+[0-9]+", str(e.entry.data))}
    assert {"AwsSolutions-IAM5", "AwsSolutions-EC23", "AwsSolutions-SMG4"} <= rules


def test_jsii_runs_the_packaged_node() -> None:
    assert Path(os.environ["JSII_NODE"]) == packaged_node()


def test_cli_synthesizes_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["synth", "--env", "dev", "--out", str(tmp_path), "--services-running", "false"]) == 0
    )
    template = Path(capsys.readouterr().out.strip())
    body = json.loads(template.read_text())
    assert "CheckBootstrapVersion" not in body.get("Rules", {})
    assert "BootstrapVersion" not in body.get("Parameters", {})
    assert not any(r["Type"].startswith("Custom::") for r in body["Resources"].values())
    (report,) = tmp_path.glob("AwsSolutions-*CounterPromo-dev-NagReport.csv")
    assert "Non-Compliant" not in report.read_text()


def test_cli_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--env", "prod"]) == 2
    assert "--account is required" in capsys.readouterr().err
    assert main(["synth", "--env", "dev", "--account", "12ab"]) == 2
    assert "12 digits" in capsys.readouterr().err
