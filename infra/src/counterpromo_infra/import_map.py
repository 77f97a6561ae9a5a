"""The ``--resources-to-import`` mapping that adopts the existing DEV's stateful resources.

CloudFormation's resource import needs, for each resource, its type, its logical id in the
template and the identifier of the resource that exists. The identifiers come from the
template itself: the stack names its stateful resources with the existing environment's
names (``counterpromo_infra.names``), so the mapping is derived, never a second list.
A secret's identifier is its ARN, whose random suffix only AWS knows: it is given per
name (``aws secretsmanager describe-secret --secret-id NAME --query ARN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The stateful types adopted by import, and the property that names each.
STATEFUL = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ECR::Repository": "RepositoryName",
}


class ImportMapError(ValueError):
    """A secret's ARN is not given, or an excluded name is not in the template."""


def _names(template: Mapping[str, Any]) -> set[str]:
    return {
        resource.get("Properties", {}).get(STATEFUL[resource["Type"]])
        for resource in template["Resources"].values()
        if resource["Type"] in STATEFUL
    } - {None}


@dataclass(frozen=True)
class Target:
    account: str
    region: str
    secret_arns: Mapping[str, str]


def _identifier(kind: str, name: str, target: Target) -> dict[str, str]:
    if kind == "AWS::S3::Bucket":
        return {"BucketName": name}
    if kind == "AWS::SQS::Queue":
        return {"QueueUrl": f"https://sqs.{target.region}.amazonaws.com/{target.account}/{name}"}
    if kind == "AWS::RDS::DBInstance":
        return {"DBInstanceIdentifier": name}
    if kind == "AWS::SecretsManager::Secret":
        return {"Id": target.secret_arns[name]}
    if kind == "AWS::Logs::LogGroup":
        return {"LogGroupName": name}
    return {"RepositoryName": name}


def unnamed(template: Mapping[str, Any]) -> list[str]:
    """Stateful resources without a fixed name (e.g. the flow log's log group): nothing in
    the existing environment can be them, so they are created, not imported."""
    return [
        f"{logical_id} ({resource['Type']})"
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL
        and not isinstance(resource.get("Properties", {}).get(STATEFUL[resource["Type"]]), str)
    ]


def resources_to_import(
    template: Mapping[str, Any], target: Target, *, exclude: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """One entry per named stateful resource of ``template``, in the template's order,
    except the ``exclude``d names (resources the environment does not have yet)."""
    found: list[tuple[str, str, str]] = []
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind not in STATEFUL:
            continue
        name = resource.get("Properties", {}).get(STATEFUL[kind])
        if isinstance(name, str) and name not in exclude:
            found.append((logical_id, kind, name))
    unknown = sorted(exclude - _names(template))
    if unknown:
        raise ImportMapError(f"--exclude names no stateful resource of the template: {unknown}")
    missing = sorted(
        name
        for _, kind, name in found
        if kind == "AWS::SecretsManager::Secret" and name not in target.secret_arns
    )
    if missing:
        commands = "\n".join(
            f"  aws secretsmanager describe-secret --secret-id {n} --query ARN" for n in missing
        )
        raise ImportMapError(
            "the ARN of each secret is needed (--secret-arn NAME=ARN); get them with:\n" + commands
        )
    return [
        {
            "ResourceType": kind,
            "LogicalResourceId": logical_id,
            "ResourceIdentifier": _identifier(kind, name, target),
        }
        for logical_id, kind, name in found
    ]
