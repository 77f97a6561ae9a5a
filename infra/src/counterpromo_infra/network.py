"""VPC, subnets, NAT, VPC endpoints and the security groups' traffic model.

The traffic model is the environment facts' table, rule for rule, plus three additions,
each justified where it is made:

- API tasks: 443 out to anywhere, for ``api.stripe.com`` (checkout, webhook re-fetch)
  through the NAT gateway; Stripe publishes no fixed IP ranges for its API.
- API and worker tasks: 443 out to the S3 gateway endpoint's prefix list (S3 is a
  gateway endpoint, reached by route, not through the endpoints' security group).
- The ALB's 80 to WEB tasks and the WEB group exist for the other team's web service,
  which the ALB's default action still sends to.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnParameter, Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from counterpromo_infra.names import Names
from counterpromo_infra.settings import EnvSettings

API_PORT = 3000
WEB_PORT = 80
POSTGRES_PORT = 5432
HTTPS = 443

INTERFACE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    # Not in the facts file: the worker publishes its JobsFailed metric, and CloudWatch
    # has no other private route.
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
}


@dataclass(frozen=True)
class SecurityGroups:
    alb: ec2.SecurityGroup
    api: ec2.SecurityGroup
    worker: ec2.SecurityGroup
    web: ec2.SecurityGroup
    database: ec2.SecurityGroup
    endpoints: ec2.SecurityGroup


class Network(Construct):
    """The VPC with its endpoints and every security group of the environment."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvSettings) -> None:
        super().__init__(scope, construct_id)
        names = Names(settings.env, settings.account)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=names.vpc,
            ip_addresses=ec2.IpAddresses.cidr(settings.vpc_cidr),
            availability_zones=settings.availability_zones,
            nat_gateways=settings.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            restrict_default_security_group=False,
        )
        self.vpc.add_flow_log("FlowLog")
        self.private_subnets = self.vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self.s3_prefix_list = CfnParameter(
            scope,
            "S3PrefixListId",
            type="String",
            allowed_pattern=r"^pl-[0-9a-f]+$",
            description=(
                "The region's S3 managed prefix list (aws ec2 describe-managed-prefix-lists "
                "--filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3)"
            ),
        )
        self.groups = self._security_groups(names)
        self._traffic_model()
        self.vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[self.groups.endpoints],
                private_dns_enabled=True,
                open=False,
            )

    def _group(self, names: Names, role: str, description: str) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            f"{role.title()}SecurityGroup",
            vpc=self.vpc,
            security_group_name=names.security_group(role),
            description=description,
            allow_all_outbound=role == "endpoints",
            disable_inline_rules=True,
        )
        Tags.of(group).add("Name", names.security_group(role))
        return group

    def _security_groups(self, names: Names) -> SecurityGroups:
        return SecurityGroups(
            alb=self._group(names, "alb", "Internet-facing ALB"),
            api=self._group(names, "ecs-api", "API tasks"),
            worker=self._group(names, "ecs-worker", "Worker tasks"),
            web=self._group(names, "ecs-web", "Web tasks (the web team service)"),
            database=self._group(names, "rds", "RDS PostgreSQL"),
            endpoints=self._group(names, "endpoints", "Interface VPC endpoints"),
        )

    def _traffic_model(self) -> None:
        g = self.groups
        anywhere = ec2.Peer.any_ipv4()
        g.alb.add_ingress_rule(anywhere, ec2.Port.tcp(80), "HTTP from anywhere (redirected)")
        g.alb.add_ingress_rule(anywhere, ec2.Port.tcp(HTTPS), "HTTPS from anywhere")
        g.alb.add_egress_rule(g.api, ec2.Port.tcp(API_PORT), "to API tasks")
        g.alb.add_egress_rule(g.web, ec2.Port.tcp(WEB_PORT), "to WEB tasks")
        g.api.add_ingress_rule(g.alb, ec2.Port.tcp(API_PORT), "from the ALB")
        g.web.add_ingress_rule(g.alb, ec2.Port.tcp(WEB_PORT), "from the ALB")
        s3 = ec2.Peer.prefix_list(self.s3_prefix_list.value_as_string)
        for tasks in (g.api, g.worker):
            tasks.add_egress_rule(g.database, ec2.Port.tcp(POSTGRES_PORT), "to RDS")
            tasks.add_egress_rule(g.endpoints, ec2.Port.tcp(HTTPS), "to the interface endpoints")
            tasks.add_egress_rule(s3, ec2.Port.tcp(HTTPS), "to S3 (gateway endpoint)")
            g.database.add_ingress_rule(tasks, ec2.Port.tcp(POSTGRES_PORT), "from the tasks")
        g.web.add_egress_rule(g.endpoints, ec2.Port.tcp(HTTPS), "to the interface endpoints")
        for tasks in (g.api, g.worker, g.web):
            g.endpoints.add_ingress_rule(tasks, ec2.Port.tcp(HTTPS), "from the tasks")
        # Stripe's API has no published IP ranges: 443 to anywhere, through the NAT gateway.
        g.api.add_egress_rule(anywhere, ec2.Port.tcp(HTTPS), "to api.stripe.com via NAT")
