"""cdk-nag AwsSolutions suppressions: each one with the reason it does not apply.

Every suppression names the rule and, for IAM5, the exact wildcard it accepts, so a new
wildcard (or a new finding of another rule) still fails ``test_nag``.
"""

from __future__ import annotations

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions

from counterpromo_infra.names import Names


def _suppress(stack: Stack, path: str, rules: list[tuple[str, str, list[str] | None]]) -> None:
    NagSuppressions.add_resource_suppressions_by_path(
        stack,
        f"/{stack.stack_name}/{path}",
        [
            NagPackSuppression(id=rule, reason=reason, applies_to=applies)
            for rule, reason, applies in rules
        ],
    )


def suppress_justified_findings(stack: Stack) -> None:
    env = stack.stack_name.removeprefix("CounterPromo-")
    names = Names(env, stack.account)
    region, account = stack.region, stack.account
    no_rotation = (
        "AwsSolutions-SMG4",
        "Stripe rotates its keys in the Stripe dashboard (the new value is then put here); "
        "a rotation Lambda would need an asset and internet access for no gain.",
        None,
    )
    _suppress(stack, "Configuration/stripe-secret_key/Resource", [no_rotation])
    _suppress(stack, "Configuration/stripe-webhook_secret/Resource", [no_rotation])
    _suppress(
        stack,
        "Database/Secret/Resource",
        [
            (
                "AwsSolutions-SMG4",
                "Rotation is a follow-up (the hosted rotation Lambda needs a route to Secrets "
                "Manager and a task restart to pick up PGPASSWORD); documented in the README.",
                None,
            )
        ],
    )
    database: list[tuple[str, str, list[str] | None]] = [
        (
            "AwsSolutions-RDS11",
            "The port is the existing environment's (5432); the database is private and "
            "reachable only from the task security groups.",
            None,
        )
    ]
    if env != "prod":
        database += [
            ("AwsSolutions-RDS3", "DEV runs one AZ to save cost; PROD is Multi-AZ.", None),
            (
                "AwsSolutions-RDS10",
                "DEV is torn down and rebuilt; the instance is RETAINed on stack deletion "
                "anyway. PROD has deletion protection.",
                None,
            ),
        ]
    _suppress(stack, "Database/Instance/Resource", database)
    for port in (80, 443):
        _suppress(
            stack,
            f"Network/AlbSecurityGroup/from 0.0.0.0_0:{port}",
            [
                (
                    "AwsSolutions-EC23",
                    "The internet-facing ALB serves the public site: 443 from anywhere, and 80 "
                    "only to redirect to 443.",
                    None,
                )
            ],
        )
    for task in ("ApiTask", "WorkerTask"):
        _suppress(
            stack,
            f"Services/{task}/Resource",
            [
                (
                    "AwsSolutions-ECS2",
                    "The environment variables hold no secret (env name, region, the empty "
                    "libpq URL, TLS mode, the VPC CIDR); secrets are injected by ARN.",
                    None,
                )
            ],
        )
    parameters = f"Resource::arn:aws:ssm:{region}:{account}:parameter/counterpromo/{env}/*"
    objects_reason = (
        "Object-level actions on the environment's own three buckets (every key is the "
        "application's)."
    )
    task_role_rules: list[tuple[str, str, list[str] | None]] = [
        (
            "AwsSolutions-IAM5",
            "The application reads every parameter of its own environment's namespace "
            "(GetParametersByPath /counterpromo/{env}/).",
            [parameters],
        ),
        ("AwsSolutions-IAM5", objects_reason, _bucket_objects(stack)),
    ]
    _suppress(stack, "Services/ApiTaskRole/DefaultPolicy/Resource", task_role_rules)
    _suppress(
        stack,
        "Services/WorkerTaskRole/DefaultPolicy/Resource",
        [
            *task_role_rules,
            (
                "AwsSolutions-IAM5",
                "cloudwatch:PutMetricData has no resource-level permissions; the statement is "
                "limited to the CounterPromo namespace by condition.",
                ["Resource::*"],
            ),
        ],
    )
    ecr_login = (
        "AwsSolutions-IAM5",
        "ecr:GetAuthorizationToken has no resource-level permissions.",
        ["Resource::*"],
    )
    _suppress(stack, "Services/ExecutionRole/DefaultPolicy/Resource", [ecr_login])
    _suppress(
        stack,
        "Github/DeployerRole/DefaultPolicy/Resource",
        [
            (
                "AwsSolutions-IAM5",
                "ecr:GetAuthorizationToken and ecs:RegisterTaskDefinition/"
                "DescribeTaskDefinition have no resource-level permissions.",
                ["Resource::*"],
            ),
            (
                "AwsSolutions-IAM5",
                "cdk deploy assumes the CDK bootstrap roles of this account and region "
                "(deploy, file-publishing, lookup); their names end in the account and region.",
                [f"Resource::arn:aws:iam::{account}:role/cdk-hnb659fds-*-{account}-{region}"],
            ),
            (
                "AwsSolutions-IAM5",
                "Task definition revisions of this environment's families, its cluster's "
                "tasks, and its deploy/ parameters: each wildcard is a revision, a task id or "
                "a parameter below the environment's own prefix.",
                [
                    f"Resource::arn:aws:ecs:{region}:{account}:task-definition/counterpromo-{env}-td-*:*",
                    f"Resource::arn:aws:ecs:{region}:{account}:task-definition/{names.api_family}:*",
                    f"Resource::arn:aws:ecs:{region}:{account}:task/{names.cluster}/*",
                    f"Resource::arn:aws:ssm:{region}:{account}:parameter/counterpromo/{env}/deploy/*",
                ],
            ),
        ],
    )


def _bucket_objects(stack: Stack) -> list[str]:
    """cdk-nag's spelling of ``<bucket ARN>/*`` for the three application buckets."""
    resolved: list[str] = []
    for kind in ("Uploads", "Assets", "Exports"):
        bucket = stack.node.find_child("Buckets").node.find_child(kind)
        logical_id = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
        resolved.append(f"Resource::<{stack.resolve(logical_id)}.Arn>/*")
    return resolved
