"""What differs between environments: the stack's inputs and the per-env sizes.

Account and region are inputs (``--account``/``--region`` or the CDK context), never
looked up: synthesis is offline. The ACM certificate's ARN is an input too; without one
the stack takes it as a CloudFormation parameter at deploy time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REPOSITORY = "js-cox-creator/counterpromo"
ENVS = ("dev", "prod")
DEV_ACCOUNT = "437064342167"
DEFAULT_REGION = "eu-west-2"
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class Scaling:
    """Floors and ceilings of one service's task count."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class EnvSettings:
    """Everything the stack of one environment is built from."""

    env: str
    account: str
    region: str = DEFAULT_REGION
    domain: str = ""
    certificate_arn: str | None = None
    # False keeps both services at 0 tasks: the first deploy from nothing, before any image
    # is in ECR and before the database is migrated.
    services_running: bool = True
    # PROD copies DEV's images at promotion: the account holding DEV's repositories (PROD's
    # deployer may pull from them), and on DEV's side the account PROD runs in (DEV's
    # repositories then allow PROD's deployer to pull). Both default to DEV's account.
    source_account: str = DEV_ACCOUNT
    promote_account: str = DEV_ACCOUNT

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ValueError(f"unknown environment {self.env!r}: use one of {', '.join(ENVS)}")
        for account in (self.account, self.source_account, self.promote_account):
            if not _ACCOUNT.match(account):
                raise ValueError(f"account must be 12 digits, got {account!r}")
        if not _REGION.match(self.region):
            raise ValueError(f"not an AWS region: {self.region!r}")
        if self.certificate_arn is not None and not self.certificate_arn.startswith("arn:aws:acm:"):
            raise ValueError(f"not an ACM certificate ARN: {self.certificate_arn!r}")

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def host(self) -> str:
        return self.domain or (
            "counterpromo.com" if self.is_prod else f"{self.env}.counterpromo.com"
        )

    @property
    def availability_zones(self) -> list[str]:
        """Two AZs by name: no lookup (and moto refuses the CDK's dummy AZs)."""
        return [f"{self.region}a", f"{self.region}b"]

    @property
    def vpc_cidr(self) -> str:
        # DEV's is the existing VPC's; PROD gets its own so the two can be peered later.
        return "10.20.0.0/16" if self.is_prod else "10.10.0.0/16"

    @property
    def nat_gateways(self) -> int:
        """One NAT gateway for dev (cost), one per AZ for prod (an AZ outage keeps egress)."""
        return len(self.availability_zones) if self.is_prod else 1

    @property
    def api_scaling(self) -> Scaling:
        return Scaling(2, 6) if self.is_prod else Scaling(1, 2)

    @property
    def worker_scaling(self) -> Scaling:
        return Scaling(1, 8) if self.is_prod else Scaling(1, 2)

    @property
    def github_subject(self) -> str:
        """The only GitHub OIDC subject the deployer role trusts."""
        if self.is_prod:
            return f"repo:{REPOSITORY}:environment:production"
        return f"repo:{REPOSITORY}:ref:refs/heads/main"
