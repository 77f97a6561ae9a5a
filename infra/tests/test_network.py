"""The VPC, its endpoints, NAT egress and the exact security-group traffic model."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from counterpromo_infra.testing import resources, role_of, traffic_model

# (group, direction, port, peer): peer is another group's role, a CIDR or "s3-prefix-list".
TRAFFIC_MODEL = {
    ("alb", "in", 80, "0.0.0.0/0"),
    ("alb", "in", 443, "0.0.0.0/0"),
    ("alb", "out", 3000, "ecs-api"),
    ("alb", "out", 80, "ecs-web"),
    ("ecs-api", "in", 3000, "alb"),
    ("ecs-api", "out", 5432, "rds"),
    ("ecs-api", "out", 443, "endpoints"),
    ("ecs-worker", "out", 5432, "rds"),
    ("ecs-worker", "out", 443, "endpoints"),
    ("ecs-web", "in", 80, "alb"),
    ("ecs-web", "out", 443, "endpoints"),
    ("rds", "in", 5432, "ecs-api"),
    ("rds", "in", 5432, "ecs-worker"),
    ("endpoints", "in", 443, "ecs-api"),
    ("endpoints", "in", 443, "ecs-worker"),
    ("endpoints", "in", 443, "ecs-web"),
    ("endpoints", "out", -1, "0.0.0.0/0"),
    # Additions (justified in network.py): Stripe through the NAT, S3's gateway endpoint.
    ("ecs-api", "out", 443, "0.0.0.0/0"),
    ("ecs-api", "out", 443, "s3-prefix-list"),
    ("ecs-worker", "out", 443, "s3-prefix-list"),
}
# CDK's placeholder egress rule for a group that may send nothing (RDS).
NO_EGRESS = ("rds", "out", 252, "255.255.255.255/32")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_security_groups_have_exactly_the_traffic_model(
    env: str, request: pytest.FixtureRequest
) -> None:
    template: Template = request.getfixturevalue(env)
    assert traffic_model(template) == TRAFFIC_MODEL | {NO_EGRESS}


def test_security_group_names_are_the_environments(dev: Template) -> None:
    assert sorted(role_of(dev).values()) == sorted(
        ["alb", "ecs-api", "ecs-worker", "ecs-web", "rds", "endpoints"]
    )
    names = {
        g["Properties"]["GroupName"] for g in resources(dev, "AWS::EC2::SecurityGroup").values()
    }
    assert "counterpromo-dev-sg-ecs-web" in names


def test_vpc_has_two_azs_public_and_private(dev: Template, prod: Template) -> None:
    dev.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.10.0.0/16"})
    prod.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/16"})
    subnets = resources(dev, "AWS::EC2::Subnet").values()
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets}
    assert zones == {"eu-west-2a", "eu-west-2b"}
    public = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(public) == 2
    assert len(subnets) == 4


def test_nat_gateways_one_for_dev_one_per_az_for_prod(dev: Template, prod: Template) -> None:
    dev.resource_count_is("AWS::EC2::NatGateway", 1)
    prod.resource_count_is("AWS::EC2::NatGateway", 2)
    # Every private subnet has a default route to a NAT gateway (Stripe's API).
    routes = [
        r["Properties"]
        for r in resources(dev, "AWS::EC2::Route").values()
        if "NatGatewayId" in r["Properties"]
    ]
    assert len(routes) == 2
    assert all(r["DestinationCidrBlock"] == "0.0.0.0/0" for r in routes)


def test_vpc_endpoints_of_the_facts_file(dev: Template) -> None:
    services = set()
    for endpoint in resources(dev, "AWS::EC2::VPCEndpoint").values():
        name = endpoint["Properties"]["ServiceName"]
        text = name if isinstance(name, str) else str(name)
        services.add(text.rsplit(".", 1)[-1].rstrip("'\"]}) "))
        if endpoint["Properties"].get("VpcEndpointType") == "Interface":
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True
    for service in (
        "s3",
        "ecr.api",
        "ecr.dkr",
        "logs",
        "sqs",
        "secretsmanager",
        "ssm",
        "monitoring",
    ):
        assert any(s.endswith(service.split(".")[-1]) for s in services), service
    dev.resource_count_is("AWS::EC2::VPCEndpoint", 8)
