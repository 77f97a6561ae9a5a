"""checkov skips, written into each resource's ``Metadata.checkov.skip`` with the reason.

checkov reads them from the synthesized template; ``nox -s infra`` then requires 0 failed
checks. A new resource type or a new failing check is not covered by these and fails.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Stack

Skip = tuple[str, str]

AWS_MANAGED_KEYS = (
    "Encrypted with the AWS-managed key; a customer-managed KMS key would add cost and key "
    "policy upkeep for no reader outside this account."
)
BY_TYPE: dict[str, list[Skip]] = {
    "AWS::SQS::Queue": [
        ("CKV_AWS_27", "SQS-managed server-side encryption (SqsManagedSseEnabled) is on.")
    ],
    "AWS::SecretsManager::Secret": [("CKV_AWS_149", AWS_MANAGED_KEYS)],
    "AWS::ECR::Repository": [("CKV_AWS_136", "ECR encrypts images with AES-256 by default.")],
    "AWS::Logs::LogGroup": [("CKV_AWS_158", AWS_MANAGED_KEYS)],
    "AWS::SNS::Topic": [
        (
            "CKV_AWS_26",
            "Alarm notifications hold no data; CloudWatch cannot publish to a topic encrypted "
            "with the AWS-managed SNS key.",
        )
    ],
}
BY_PATH: dict[str, list[Skip]] = {
    "Network/AlbSecurityGroup": [
        ("CKV_AWS_260", "The public ALB accepts port 80 only to redirect it to 443.")
    ],
    "Buckets/AccessLogs": [
        ("CKV_AWS_21", "The access-log bucket itself: logs are written once, never edited."),
        ("CKV_AWS_18", "The access-log bucket itself: logging it would loop."),
    ],
    "Database/Instance": [
        (
            "CKV_AWS_118",
            "Enhanced monitoring needs a monitoring role and costs; CloudWatch metrics, "
            "PostgreSQL logs (and Performance Insights on prod) cover Phase 1.",
        )
    ],
}
DEV_ONLY_BY_PATH: dict[str, list[Skip]] = {
    "Database/Instance": [("CKV_AWS_157", "DEV runs one AZ to save cost; PROD is Multi-AZ.")],
}


def skip_justified_checks(stack: Stack, *, is_prod: bool) -> None:
    by_path = dict(BY_PATH)
    if not is_prod:
        for path, skips in DEV_ONLY_BY_PATH.items():
            by_path[path] = [*by_path.get(path, []), *skips]
    for construct in stack.node.find_all():
        if not isinstance(construct, CfnResource):
            continue
        skips = list(BY_TYPE.get(construct.cfn_resource_type, []))
        parent = construct.node.scope
        relative = parent.node.path.removeprefix(f"{stack.node.path}/") if parent else ""
        skips += by_path.get(relative, [])
        if skips:
            construct.add_metadata(
                "checkov", {"skip": [{"id": check, "comment": why} for check, why in skips]}
            )
