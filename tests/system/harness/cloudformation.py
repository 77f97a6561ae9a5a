"""The synthesized stack deployed into moto's CloudFormation, over HTTP.

moto's CloudFormation creates most of the stack's resource types. For the ones it skips
(``MOTO_CANNOT_CREATE``) the deploy plays CloudFormation's part where the rest of the stack
needs them: each secret is created through Secrets Manager's API under the template's name
(with a value generated as the template's ``GenerateSecretString`` asks), and a reference
(``Ref``/``Fn::GetAtt``) to a skipped resource becomes that secret's ARN or the resource's
ARN as AWS would give it. The skipped types' properties are asserted on the template by
the infra member's tests instead.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

from counterpromo_storage.clients import AwsClients

from harness.services import console_script

STACK = "CounterPromo-dev"
# What moto 5.2's CloudFormation does not create (it logs "No Moto CloudFormation support").
MOTO_CANNOT_CREATE = frozenset(
    {
        "AWS::CloudWatch::Alarm",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::IAM::OIDCProvider",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::SecretTargetAttachment",
    }
)
GITHUB_OIDC = "token.actions.githubusercontent.com"


def synthesize(out: Path) -> dict[str, Any]:
    """``counterpromo-infra synth --env dev --services-running false`` (no certificate: a
    parameter), as an operator runs it for the first deploy."""
    result = subprocess.run(
        [
            console_script("counterpromo-infra"),
            "synth",
            "--env",
            "dev",
            "--services-running",
            "false",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"synthesis failed:\n{result.stdout}\n{result.stderr}")
    template: dict[str, Any] = json.loads((out / f"{STACK}.template.json").read_text())
    return template


def _generated_value(properties: dict[str, Any]) -> str:
    generate = properties.get("GenerateSecretString", {})
    value = secrets.token_urlsafe(24)
    if "SecretStringTemplate" in generate:
        document = json.loads(generate["SecretStringTemplate"])
        document[generate["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _replace_references(node: Any, stand_in: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in stand_in:
            return stand_in[node["Ref"]]
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in stand_in:
            return stand_in[node["Fn::GetAtt"][0]]
        return {key: _replace_references(value, stand_in) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_references(value, stand_in) for value in node]
    return node


def for_moto(template: dict[str, Any], clients: AwsClients, account: str) -> dict[str, Any]:
    """The template as moto can create it; the secrets it skips are created here."""
    resources: dict[str, Any] = template["Resources"]
    stand_in: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::SecretsManager::Secret":
            created = clients.secretsmanager.create_secret(
                Name=properties["Name"], SecretString=_generated_value(properties)
            )
            stand_in[logical_id] = created["ARN"]
        elif kind == "AWS::IAM::OIDCProvider":
            stand_in[logical_id] = f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}"
        elif kind in MOTO_CANNOT_CREATE:
            stand_in[logical_id] = logical_id
        else:
            if kind == "AWS::SSM::Parameter" and isinstance(properties.get("Tags"), dict):
                # CloudFormation's tag map; moto's parameter reads a list of Key/Value.
                tags = properties["Tags"]
                properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
            kept[logical_id] = resource
    adapted = dict(template)
    adapted["Resources"] = _replace_references(kept, stand_in)
    for resource in adapted["Resources"].values():
        depends = resource.get("DependsOn")
        if depends is not None:
            listed = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [d for d in listed if d in kept]
    adapted["Outputs"] = _replace_references(template.get("Outputs", {}), stand_in)
    return adapted


def deploy(
    clients: AwsClients, cloudformation: Any, template: dict[str, Any], parameters: dict[str, str]
) -> dict[str, Any]:
    """Upload the template (it is over TemplateBody's 51,200 bytes) and create the stack."""
    bucket = "counterpromo-cfn-templates"
    clients.s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    clients.s3.put_object(Bucket=bucket, Key=f"{STACK}.json", Body=json.dumps(template).encode())
    cloudformation.create_stack(
        StackName=STACK,
        TemplateURL=f"https://{bucket}.s3.amazonaws.com/{STACK}.json",
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        time.sleep(0.5)
    raise TimeoutError(f"{STACK} still in progress")


def created_types(cloudformation: Any) -> set[str]:
    paginator = cloudformation.get_paginator("list_stack_resources")
    return {
        summary["ResourceType"]
        for page in paginator.paginate(StackName=STACK)
        for summary in page["StackResourceSummaries"]
        if summary["ResourceStatus"] == "CREATE_COMPLETE"
    }
