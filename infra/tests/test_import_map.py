"""``counterpromo-infra import-map``: the resources-to-import mapping that adopts DEV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from counterpromo_infra.cli import main
from counterpromo_infra.import_map import ImportMapError, Target, resources_to_import, unnamed

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

_ARN = "arn:aws:secretsmanager:eu-west-2:437064342167:secret:"
SECRETS = {
    "/counterpromo/dev/db/postgres": f"{_ARN}/counterpromo/dev/db/postgres-AbCdEf",
    "/counterpromo/dev/stripe/secret_key": f"{_ARN}/counterpromo/dev/stripe/secret_key-GhIjKl",
    "/counterpromo/dev/stripe/webhook_secret": f"{_ARN}/counterpromo/dev/stripe/webhook_secret-Mn",
}


@pytest.fixture
def template_file(dev: Template, tmp_path: Path) -> Path:
    path = tmp_path / "CounterPromo-dev.template.json"
    path.write_text(json.dumps(dev.to_json()))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import-map", "--env", "dev", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_maps_every_stateful_resource_to_the_existing_name(
    template_file: Path, capsys: pytest.CaptureFixture[str], dev: Template
) -> None:
    pairs = [f"--secret-arn={name}={arn}" for name, arn in SECRETS.items()]
    code, out, err = _run(capsys, "--template", str(template_file), *pairs)
    assert code == 0, err
    mapping = json.loads(out)
    identifiers = {
        (entry["ResourceType"], json.dumps(entry["ResourceIdentifier"], sort_keys=True))
        for entry in mapping
    }
    account = "437064342167"
    sqs = f"https://sqs.eu-west-2.amazonaws.com/{account}"
    expected = [
        *(
            ("AWS::S3::Bucket", {"BucketName": f"counterpromo-dev-{kind}-{account}"})
            for kind in ("uploads", "assets", "exports")
        ),
        *(
            ("AWS::SQS::Queue", {"QueueUrl": f"{sqs}/counterpromo-{env}-jobs{suffix}"})
            for env in ("dev", "devlocal")
            for suffix in ("", "-dlq")
        ),
        ("AWS::RDS::DBInstance", {"DBInstanceIdentifier": "counterpromo-dev-postgres"}),
        ("AWS::Logs::LogGroup", {"LogGroupName": "/ecs/counterpromo-dev"}),
        ("AWS::ECR::Repository", {"RepositoryName": "counterpromo-dev-api"}),
        ("AWS::ECR::Repository", {"RepositoryName": "counterpromo-dev-worker"}),
        *(("AWS::SecretsManager::Secret", {"Id": arn}) for arn in SECRETS.values()),
    ]
    assert {(kind, json.dumps(ident, sort_keys=True)) for kind, ident in expected} <= identifiers
    # Each logical id is the template's, each once, and of the type the template declares.
    resources = dev.to_json()["Resources"]
    ids = [entry["LogicalResourceId"] for entry in mapping]
    assert len(ids) == len(set(ids))
    for entry in mapping:
        assert resources[entry["LogicalResourceId"]]["Type"] == entry["ResourceType"]
    # Every retained bucket, queue, database, secret and repository of the template is mapped.
    stateful = {
        logical_id
        for logical_id, r in resources.items()
        if r["Type"]
        in {
            "AWS::S3::Bucket",
            "AWS::SQS::Queue",
            "AWS::RDS::DBInstance",
            "AWS::SecretsManager::Secret",
            "AWS::ECR::Repository",
        }
    }
    assert stateful <= set(ids)


def test_a_secret_without_its_arn_is_named_with_the_command_that_gives_it(
    template_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--template", str(template_file))
    assert code == 2
    assert out == ""
    for name in SECRETS:
        assert f"describe-secret --secret-id {name} --query ARN" in err


@pytest.mark.parametrize("pair", ["no-equals-sign", "/counterpromo/dev/db/postgres=not-an-arn"])
def test_a_malformed_secret_arn_is_refused(
    template_file: Path, capsys: pytest.CaptureFixture[str], pair: str
) -> None:
    code, _, err = _run(capsys, "--template", str(template_file), "--secret-arn", pair)
    assert code == 2
    assert "--secret-arn wants NAME=arn:aws:secretsmanager:" in err


def test_an_unreadable_template_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = _run(capsys, "--template", str(broken))
    assert code == 2
    assert "cannot read the template" in err


def test_a_stateful_resource_without_a_fixed_name_is_created_not_imported() -> None:
    template = {
        "Resources": {
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/x"}},
        }
    }
    target = Target("437064342167", "eu-west-2", {})
    assert [e["LogicalResourceId"] for e in resources_to_import(template, target)] == ["Logs"]
    assert unnamed(template) == ["Jobs (AWS::SQS::Queue)"]


def test_the_unnamed_are_reported_on_stderr(
    template_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [f"--secret-arn={name}={arn}" for name, arn in SECRETS.items()]
    code, _, err = _run(capsys, "--template", str(template_file), *pairs)
    assert code == 0
    assert "not mapped (no fixed name, created new): NetworkVpcFlowLogLogGroup" in err


def test_a_missing_secret_arn_is_an_import_map_error() -> None:
    template = {
        "Resources": {"S": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "/s"}}}
    }
    with pytest.raises(ImportMapError, match="describe-secret --secret-id /s"):
        resources_to_import(template, Target("437064342167", "eu-west-2", {}))


def test_excluded_names_are_left_to_be_created(
    template_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [f"--secret-arn={name}={arn}" for name, arn in SECRETS.items()]
    logs_bucket = "counterpromo-dev-access-logs-437064342167"
    code, out, err = _run(capsys, "--template", str(template_file), *pairs)
    assert code == 0, err
    assert {"BucketName": logs_bucket} in [e["ResourceIdentifier"] for e in json.loads(out)]
    code, out, err = _run(
        capsys, "--template", str(template_file), *pairs, "--exclude", logs_bucket
    )
    assert code == 0, err
    assert {"BucketName": logs_bucket} not in [e["ResourceIdentifier"] for e in json.loads(out)]
    code, out, err = _run(capsys, "--template", str(template_file), *pairs, "--exclude", "typo")
    assert code == 2
    assert "--exclude names no stateful resource of the template: ['typo']" in err
