"""GitHub Actions' way in: the OIDC provider and the environment's deployer role.

The deployer role is trusted only for one subject, matched with StringEquals: DEV's for
the repository's main branch, PROD's for the ``production`` GitHub environment (whose
required reviewers are the manual approval). It may run ``cdk deploy`` (by assuming the
CDK bootstrap roles), push to its environment's repositories (PROD's copy DEV's image),
and run ``deploy/release.sh``: register task definitions, run the migration task, update
the two services, pass the task roles.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from counterpromo_infra.names import Names
from counterpromo_infra.services import Services
from counterpromo_infra.settings import EnvSettings

GITHUB_OIDC = "token.actions.githubusercontent.com"
# GitHub's OIDC thumbprints (IAM no longer checks them for GitHub, but the field is required).
GITHUB_THUMBPRINTS = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
]
CDK_QUALIFIER = "hnb659fds"


class GithubDeployer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvSettings,
        services: Services,
        create_provider: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        names = Names(settings.env, settings.account)
        account, region = settings.account, settings.region
        provider_arn = f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}"
        if create_provider:
            # The L1 resource (AWS::IAM::OIDCProvider): no custom-resource Lambda, no asset.
            provider = iam.CfnOIDCProvider(
                self,
                "GithubOidc",
                url=f"https://{GITHUB_OIDC}",
                client_id_list=["sts.amazonaws.com"],
                thumbprint_list=GITHUB_THUMBPRINTS,
            )
            provider_arn = provider.attr_arn
        self.role = iam.Role(
            self,
            "DeployerRole",
            role_name=names.deployer_role,
            description=f"GitHub Actions deploys {settings.env} ({settings.github_subject})",
            assumed_by=iam.FederatedPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC}:sub": settings.github_subject,
                    }
                },
                assume_role_action="sts:AssumeRoleWithWebIdentity",
            ),
            max_session_duration=None,
        )
        Stack.of(self)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="CdkDeploy",
                actions=["sts:AssumeRole"],
                resources=[f"arn:aws:iam::{account}:role/cdk-{CDK_QUALIFIER}-*-{account}-{region}"],
            )
        )
        for repository in services.repositories.values():
            repository.grant_pull_push(self.role)
            repository.grant(self.role, "ecr:DescribeImages")
        if settings.is_prod:
            # Promotion copies DEV's image (same or another account) into PROD's repository.
            source = f"arn:aws:ecr:{region}:{settings.source_account}:repository/counterpromo-dev"
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="PullDevImages",
                    actions=[
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:DescribeImages",
                    ],
                    resources=[f"{source}-api", f"{source}-worker"],
                )
            )
        elif settings.promote_account != account:
            prod_deployer = iam.ArnPrincipal(
                f"arn:aws:iam::{settings.promote_account}:role/counterpromo-prod-github-deployer"
            )
            for repository in services.repositories.values():
                repository.add_to_resource_policy(
                    iam.PolicyStatement(
                        sid="ProdDeployerPulls",
                        principals=[prod_deployer],
                        actions=[
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:DescribeImages",
                        ],
                    )
                )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="RegisterTaskDefinitions",
                actions=["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"],
                resources=["*"],
            )
        )
        task_definitions = f"arn:aws:ecs:{region}:{account}:task-definition"
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="TagTaskDefinitionsOnRegister",
                actions=["ecs:TagResource"],
                resources=[f"{task_definitions}/counterpromo-{settings.env}-td-*:*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="RunMigrationTask",
                actions=["ecs:RunTask"],
                resources=[f"{task_definitions}/{names.api_family}:*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WatchMigrationTask",
                actions=["ecs:DescribeTasks"],
                resources=[f"arn:aws:ecs:{region}:{account}:task/{names.cluster}/*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="UpdateServices",
                actions=["ecs:UpdateService", "ecs:DescribeServices"],
                resources=[
                    services.api_service.service_arn,
                    services.worker_service.service_arn,
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="PassTaskRoles",
                actions=["iam:PassRole"],
                resources=[
                    services.execution_role.role_arn,
                    services.api_role.role_arn,
                    services.worker_role.role_arn,
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadDeployNames",
                actions=["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                resources=[
                    f"arn:aws:ssm:{region}:{account}:parameter{names.path('deploy')}",
                    f"arn:aws:ssm:{region}:{account}:parameter{names.path('deploy')}/*",
                ],
            )
        )
