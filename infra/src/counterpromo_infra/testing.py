"""Helpers for tests of the synthesized templates (this package's and the moto deploy's)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_cdk.assertions import Template

from counterpromo_infra.app import build
from counterpromo_infra.settings import DEV_ACCOUNT, EnvSettings
from counterpromo_infra.stack import CounterPromoStack

PROD_ACCOUNT = "210987654321"
CERTIFICATE = "arn:aws:acm:eu-west-2:437064342167:certificate/00000000-0000-0000-0000-000000000000"


@cache
def stack_of(env: str, *, services_running: bool = True) -> CounterPromoStack:
    account = DEV_ACCOUNT if env == "dev" else PROD_ACCOUNT
    settings = EnvSettings(
        env=env,
        account=account,
        certificate_arn=CERTIFICATE,
        services_running=services_running,
    )
    return build(settings)


@cache
def template_of(env: str, *, services_running: bool = True) -> Template:
    return Template.from_stack(stack_of(env, services_running=services_running))


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {key: dict(value) for key, value in template.find_resources(kind).items()}


def only(template: Template, kind: str, where: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    matches = [r for r in resources(template, kind).values() if where(r.get("Properties", {}))]
    if len(matches) != 1:
        raise AssertionError(f"expected one {kind}, found {len(matches)}")
    return matches[0]


def role_of(template: Template) -> dict[str, str]:
    return {
        logical_id: group["Properties"]["GroupName"].split("-sg-", 1)[1]
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
    }


def _peer(rule: dict[str, Any], roles: dict[str, str]) -> str:
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if key in rule:
            return roles[rule[key]["Fn::GetAtt"][0]]
    if "DestinationPrefixListId" in rule:
        if rule["DestinationPrefixListId"] != {"Ref": "S3PrefixListId"}:
            raise AssertionError(f"unexpected prefix list {rule['DestinationPrefixListId']}")
        return "s3-prefix-list"
    return str(rule["CidrIp"])


def traffic_model(template: Template) -> set[tuple[str, str, int, str]]:
    roles = role_of(template)
    rules: set[tuple[str, str, int, str]] = set()
    for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
        props = group["Properties"]
        for direction, key in (("in", "SecurityGroupIngress"), ("out", "SecurityGroupEgress")):
            for rule in props.get(key, []):
                rules.add(
                    (roles[logical_id], direction, rule.get("FromPort", -1), _peer(rule, roles))
                )
    for direction, kind in (
        ("in", "AWS::EC2::SecurityGroupIngress"),
        ("out", "AWS::EC2::SecurityGroupEgress"),
    ):
        for rule in resources(template, kind).values():
            props = rule["Properties"]
            if props.get("IpProtocol") == "tcp" and props["ToPort"] != props["FromPort"]:
                raise AssertionError(f"a port range in {props}: single ports only")
            owner = roles[props["GroupId"]["Fn::GetAtt"][0]]
            rules.add((owner, direction, props.get("FromPort", -1), _peer(props, roles)))
    return rules
