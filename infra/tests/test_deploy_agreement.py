"""deploy/taskdefs (what release.sh registers) and the stack's first revisions agree: the
same family, roles, port, stop timeout, environment and injected secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Template
from counterpromo_infra.testing import only, resources

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _role_name(template: Template, reference: dict[str, list[str]]) -> str:
    roles = resources(template, "AWS::IAM::Role")
    return str(roles[reference["Fn::GetAtt"][0]]["Properties"]["RoleName"])


@pytest.mark.parametrize("service", ["api", "worker"])
def test_task_definition_templates_match_the_stack(dev: Template, service: str) -> None:
    text = (DEPLOY / "taskdefs" / f"{service}.json").read_text()
    values = {"${ENV}": "dev", "${ACCOUNT_ID}": "437064342167", "${REGION}": "eu-west-2"}
    values["${VPC_CIDR}"] = "10.10.0.0/16"
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    template = json.loads(text)
    stack = only(
        dev, "AWS::ECS::TaskDefinition", lambda p: bool(p["Family"] == template["family"])
    )["Properties"]
    for key, cfn in (("executionRoleArn", "ExecutionRoleArn"), ("taskRoleArn", "TaskRoleArn")):
        assert template[key].rsplit("/", 1)[1] == _role_name(dev, stack[cfn])
    ours, theirs = template["containerDefinitions"][0], stack["ContainerDefinitions"][0]
    assert ours["stopTimeout"] == theirs["StopTimeout"]
    assert {e["name"]: e["value"] for e in ours["environment"]} == {
        e["Name"]: e["Value"] for e in theirs["Environment"]
    }
    assert {s["name"] for s in ours["secrets"]} == {s["Name"] for s in theirs["Secrets"]}
    assert [p["containerPort"] for p in ours.get("portMappings", [])] == [
        p["ContainerPort"] for p in theirs.get("PortMappings", [])
    ]
    assert (template["cpu"], template["memory"]) == (stack["Cpu"], stack["Memory"])
