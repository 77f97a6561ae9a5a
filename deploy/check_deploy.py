"""Structural checks of the deploy files: task definition templates and IAM documents.

Each task definition template is rendered for every environment (as the workflows
render it) and checked against what the services and the AWS environment need:
names, port, log group, stop timeout, every secret injected from Secrets Manager or
SSM by ARN, no plaintext secret in the environment. IAM documents are checked for
least privilege (no wildcard actions, no ``Resource: "*"`` on data actions) and the
GitHub trust policies for their exact subject. No file may hold an account id.

    python3 deploy/check_deploy.py [--root REPOSITORY]

Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from render_template import Json, TemplateError, load, placeholders, render

ENVS = ("dev", "prod")
SERVICES = ("api", "worker")
SAMPLE_ACCOUNT = "000000000000"
SAMPLE_REGION = "eu-west-2"
SAMPLE_IMAGE = f"{SAMPLE_ACCOUNT}.dkr.ecr.{SAMPLE_REGION}.amazonaws.com/sample:sample-tag"
SAMPLE_VPC_CIDR = "10.99.0.0/16"
# The stack's role names (infra/src/counterpromo_infra/names.py).
ROLE_NAMES = {
    "executionRoleArn": {"api": "ecs-exec-default", "worker": "ecs-exec-default"},
    "taskRoleArn": {"api": "ecs-task-app", "worker": "ecs-task-worker"},
}
SECRETS_ARN = f"arn:aws:secretsmanager:{SAMPLE_REGION}:{SAMPLE_ACCOUNT}:secret:/counterpromo"
PARAMETERS_ARN = f"arn:aws:ssm:{SAMPLE_REGION}:{SAMPLE_ACCOUNT}:parameter/counterpromo"
REPOSITORY = "js-cox-creator/counterpromo"

API_PORT = 3000
# The worker finishes or hands back its running jobs within this many seconds of SIGTERM;
# uvicorn's graceful shutdown of the API takes as long.
WORKER_GRACE_SECONDS = 25
STOP_MARGIN_SECONDS = 5
FARGATE_MAX_STOP_TIMEOUT = 120
# Fargate's valid memory sizes (MiB) for each CPU size (units).
FARGATE_SIZES: dict[str, range] = {
    "256": range(512, 2049, 512),
    "512": range(1024, 4097, 1024),
    "1024": range(2048, 8193, 1024),
    "2048": range(4096, 16385, 1024),
    "4096": range(8192, 30721, 1024),
}

# Injected variable -> (source, name under /counterpromo/{env}/, JSON key of the secret).
Source = tuple[str, str, str | None]
DATABASE: dict[str, Source] = {
    "PGHOST": ("secret", "db/postgres", "host"),
    "PGPORT": ("secret", "db/postgres", "port"),
    "PGDATABASE": ("secret", "db/postgres", "dbname"),
    "PGUSER": ("secret", "db/postgres", "username"),
    "PGPASSWORD": ("secret", "db/postgres", "password"),
}
PARAMETERS: dict[str, Source] = {
    "JOBS_QUEUE_URL": ("parameter", "sqs/jobs_queue_url", None),
    "JOBS_DLQ_URL": ("parameter", "sqs/jobs_dlq_url", None),
    "UPLOADS_BUCKET": ("parameter", "s3/uploads_bucket", None),
    "ASSETS_BUCKET": ("parameter", "s3/assets_bucket", None),
    "EXPORTS_BUCKET": ("parameter", "s3/exports_bucket", None),
    "APP_URL": ("parameter", "app/url", None),
}
STRIPE: dict[str, Source] = {
    "STRIPE_SECRET_KEY": ("secret", "stripe/secret_key", None),
    "STRIPE_WEBHOOK_SECRET": ("secret", "stripe/webhook_secret", None),
}
REQUIRED_SECRETS: dict[str, dict[str, Source]] = {
    "api": DATABASE | PARAMETERS | STRIPE,
    "worker": DATABASE | PARAMETERS,
}

SECRET_LIKE_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY($|_)")
SECRET_LIKE_VALUE = re.compile(
    r"(sk|rk)_(live|test)_|whsec_|AKIA[0-9A-Z]{16}|-----BEGIN|://[^/@\s:]+:[^/@\s]+@"
)
ACCOUNT_ID_LITERAL = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")

# Actions that IAM can only grant on Resource "*" (no resource-level permissions).
RESOURCE_STAR_ONLY = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "cloudwatch:PutMetricData",
    }
)
IAM_FILES = (
    "task-role-api.policy.json",
    "task-role-worker.policy.json",
    "ecs-execution-role.policy.json",
    "ecs-tasks.trust.json",
    "github-deployer-dev.policy.json",
    "github-deployer-dev.trust.json",
    "github-deployer-prod.policy.json",
    "github-deployer-prod.trust.json",
)
TRUSTED_SUBJECTS = {
    "github-deployer-dev.trust.json": f"repo:{REPOSITORY}:ref:refs/heads/main",
    "github-deployer-prod.trust.json": f"repo:{REPOSITORY}:environment:production",
}
GITHUB_OIDC = "token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def expected_value_from(source: Source, env: str) -> str:
    kind, name, key = source
    if kind == "secret":
        arn = f"{SECRETS_ARN}/{env}/{name}"
        return f"{arn}:{key}::" if key else arn
    return f"{PARAMETERS_ARN}/{env}/{name}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _named(items: Any) -> dict[str, Any]:
    return {str(item.get("name")): item for item in _as_list(items) if isinstance(item, dict)}


def check_container(container: dict[str, Any], service: str, env: str) -> Iterator[str]:
    if container.get("image") != SAMPLE_IMAGE:
        yield "image must be the ${IMAGE} placeholder"
    if container.get("essential") is not True:
        yield "container must be essential"
    yield from check_hardening(container)
    yield from check_ports_and_health(container, service)
    yield from check_logs(container, service, env)
    yield from check_injection(container, service, env)


def check_hardening(container: dict[str, Any]) -> Iterator[str]:
    user = str(container.get("user", ""))
    if not user or user.split(":", maxsplit=1)[0] in {"0", "root"}:
        yield f"container must run as a non-root user (user is {user or 'unset'})"
    if container.get("readonlyRootFilesystem") is not True:
        yield "readonlyRootFilesystem must be true"
    mounts = {m.get("containerPath"): m for m in _as_list(container.get("mountPoints"))}
    if "/tmp" not in mounts or mounts["/tmp"].get("readOnly", False):  # noqa: S108
        yield "a writable volume must be mounted on /tmp (the root filesystem is read-only)"


def check_ports_and_health(container: dict[str, Any], service: str) -> Iterator[str]:
    ports = [p.get("containerPort") for p in _as_list(container.get("portMappings"))]
    command = _as_list(container.get("healthCheck", {}).get("command"))
    health = " ".join(str(part) for part in command)
    if not health.startswith("CMD"):
        yield "healthCheck.command must be set (CMD form)"
    if service == "api":
        if ports != [API_PORT]:
            yield f"api must expose exactly port {API_PORT} (has {ports})"
        if f"127.0.0.1:{API_PORT}/health" not in health:
            yield f"api health check must call http://127.0.0.1:{API_PORT}/health"
    elif ports:
        yield f"worker must not expose ports (has {ports})"
    stop = container.get("stopTimeout")
    minimum = WORKER_GRACE_SECONDS + STOP_MARGIN_SECONDS
    if not isinstance(stop, int) or not minimum <= stop <= FARGATE_MAX_STOP_TIMEOUT:
        yield (
            f"{service} stopTimeout must be {minimum}..{FARGATE_MAX_STOP_TIMEOUT} s "
            f"(grace {WORKER_GRACE_SECONDS} s + margin), is {stop}"
        )


def check_logs(container: dict[str, Any], service: str, env: str) -> Iterator[str]:
    logs = container.get("logConfiguration") or {}
    options = logs.get("options") or {}
    if logs.get("logDriver") != "awslogs":
        yield "logConfiguration.logDriver must be awslogs"
    if options.get("awslogs-group") != f"/ecs/counterpromo-{env}":
        yield f"log group must be /ecs/counterpromo-{env} (is {options.get('awslogs-group')})"
    if options.get("awslogs-stream-prefix") != service:
        yield f"log stream prefix must be {service}"


def check_injection(container: dict[str, Any], service: str, env: str) -> Iterator[str]:
    environment = _named(container.get("environment"))
    secrets = _named(container.get("secrets"))
    if environment.get("COUNTERPROMO_ENV", {}).get("value") != env:
        yield f"environment COUNTERPROMO_ENV must be {env}"
    for name, variable in environment.items():
        if name in secrets:
            yield f"{name} is both in environment and in secrets"
        if SECRET_LIKE_NAME.search(str(name)) or name in REQUIRED_SECRETS[service]:
            yield f"environment variable {name} looks like a secret: inject it from secrets"
        if SECRET_LIKE_VALUE.search(str(variable.get("value", ""))):
            yield f"environment variable {name} holds what looks like a plaintext secret"
    for name, source in REQUIRED_SECRETS[service].items():
        if name not in secrets:
            yield f"secret {name} is missing (from {source[0]} /counterpromo/{env}/{source[1]})"
        elif secrets[name].get("valueFrom") != expected_value_from(source, env):
            yield f"secret {name} must come from {expected_value_from(source, env)}"
    if service == "api":
        yield from check_behind_alb(environment)
    namespaces = (f"{SECRETS_ARN}/{env}/", f"{PARAMETERS_ARN}/{env}/")
    for name, secret in secrets.items():
        if not str(secret.get("valueFrom", "")).startswith(namespaces):
            yield f"secret {name} must be an ARN under /counterpromo/{env}/"


def check_behind_alb(environment: dict[str, Any]) -> Iterator[str]:
    """The API behind the ALB: proxy headers from the env's own VPC, paths under /api."""
    if environment.get("FORWARDED_ALLOW_IPS", {}).get("value") != SAMPLE_VPC_CIDR:
        yield "api FORWARDED_ALLOW_IPS must be ${VPC_CIDR} (the env's VPC, where the ALB is)"
    if environment.get("COUNTERPROMO_API_PREFIX", {}).get("value") != "/api":
        yield "api COUNTERPROMO_API_PREFIX must be /api (the ALB forwards /api/* as is)"


def check_task_definition(template: Json, service: str, env: str) -> Iterator[str]:
    values = {
        "ENV": env,
        "ACCOUNT_ID": SAMPLE_ACCOUNT,
        "REGION": SAMPLE_REGION,
        "IMAGE": SAMPLE_IMAGE,
        "VPC_CIDR": SAMPLE_VPC_CIDR,
    }
    try:
        rendered = render(template, values)
    except TemplateError as exc:
        yield str(exc)
        return
    if not isinstance(rendered, dict):
        yield "a task definition must be a JSON object"
        return
    td: dict[str, Any] = rendered
    if td.get("family") != f"counterpromo-{env}-td-{service}":
        yield f"family must be counterpromo-{env}-td-{service} (is {td.get('family')})"
    if td.get("requiresCompatibilities") != ["FARGATE"]:
        yield "requiresCompatibilities must be [FARGATE]"
    if td.get("networkMode") != "awsvpc":
        yield "networkMode must be awsvpc"
    cpu, memory = str(td.get("cpu")), str(td.get("memory"))
    if cpu not in FARGATE_SIZES or not memory.isdigit() or int(memory) not in FARGATE_SIZES[cpu]:
        yield f"cpu {cpu} / memory {memory} is not a Fargate size"
    for key, names in ROLE_NAMES.items():
        expected = f"arn:aws:iam::{SAMPLE_ACCOUNT}:role/counterpromo-{env}-{names[service]}"
        if td.get(key) != expected:
            yield f"{key} must be the stack's role {expected} (is {td.get(key)})"
    volumes = {v.get("name"): v for v in _as_list(td.get("volumes"))}
    containers = _named(td.get("containerDefinitions"))
    if list(containers) != [service]:
        yield f"there must be exactly one container, named {service} (has {list(containers)})"
        return
    container = containers[service]
    for mount in _as_list(container.get("mountPoints")):
        if mount.get("sourceVolume") not in volumes:
            yield f"mount {mount.get('containerPath')} uses an undeclared volume"
    yield from check_container(container, service, env)


def _statements(document: Json) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or document.get("Version") != "2012-10-17":
        raise TemplateError('an IAM document needs "Version": "2012-10-17"')
    statements = _as_list(document.get("Statement"))
    if not statements or not all(isinstance(s, dict) for s in statements):
        raise TemplateError("an IAM document needs a list of statements")
    return statements


def check_policy(statements: list[dict[str, Any]]) -> Iterator[str]:
    for index, statement in enumerate(statements):
        label = statement.get("Sid", f"statement {index}")
        if "Principal" in statement:
            yield f"{label}: a permissions policy has no Principal"
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            yield f"{label}: Allow with NotAction/NotResource grants too much"
        actions = [str(a) for a in _as_list(statement.get("Action"))]
        for action in actions:
            if "*" in action:
                yield f"{label}: wildcard action {action}"
        resources = _as_list(statement.get("Resource"))
        if not resources:
            yield f"{label}: no Resource"
        if "*" in resources:
            broad = sorted(set(actions) - RESOURCE_STAR_ONLY)
            if broad:
                yield f'{label}: Resource "*" on {", ".join(broad)}'


def check_trust(name: str, statements: list[dict[str, Any]]) -> Iterator[str]:
    for index, statement in enumerate(statements):
        label = statement.get("Sid", f"statement {index}")
        if not str(statement.get("Action", "")).startswith("sts:AssumeRole"):
            yield f"{label}: a trust policy allows only sts:AssumeRole*"
        if name not in TRUSTED_SUBJECTS:
            continue
        principal = statement.get("Principal", {}).get("Federated", "")
        if not str(principal).endswith(f":oidc-provider/{GITHUB_OIDC}"):
            yield f"{label}: must trust the GitHub OIDC provider"
        condition = statement.get("Condition", {})
        if set(condition) != {"StringEquals"}:
            yield f"{label}: GitHub claims must be matched with StringEquals only"
        claims = condition.get("StringEquals", {})
        if claims.get(f"{GITHUB_OIDC}:aud") != "sts.amazonaws.com":
            yield f"{label}: audience must be sts.amazonaws.com"
        if claims.get(f"{GITHUB_OIDC}:sub") != TRUSTED_SUBJECTS[name]:
            yield f"{label}: subject must be exactly {TRUSTED_SUBJECTS[name]}"


def check_iam_document(name: str, document: Json) -> Iterator[str]:
    unknown = placeholders(document) - {"ACCOUNT_ID", "REGION", "ENV"}
    if unknown:
        yield f"unknown placeholders {sorted(unknown)}"
    try:
        statements = _statements(document)
    except TemplateError as exc:
        yield str(exc)
        return
    if name.endswith(".trust.json"):
        yield from check_trust(name, statements)
    else:
        yield from check_policy(statements)


def account_literals(path: Path) -> Iterator[str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if ACCOUNT_ID_LITERAL.search(line):
            yield f"line {number}: account id literal; use ${{ACCOUNT_ID}} or vars.AWS_ACCOUNT_ID"


def check_repository(root: Path) -> list[Problem]:
    problems: list[Problem] = []
    deploy = root / "deploy"
    for service in SERVICES:
        path = deploy / "taskdefs" / f"{service}.json"
        where = str(path.relative_to(root))
        try:
            template = load(path)
        except TemplateError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        for env in ENVS:
            problems += [
                Problem(f"{where} [{env}]", m)
                for m in check_task_definition(template, service, env)
            ]
    for name in IAM_FILES:
        path = deploy / "iam" / name
        where = str(path.relative_to(root))
        try:
            document = load(path)
        except TemplateError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        problems += [Problem(where, m) for m in check_iam_document(name, document)]
    scanned = [
        *sorted((deploy / "taskdefs").glob("*.json")),
        *sorted((deploy / "iam").glob("*.json")),
        *sorted((root / ".github" / "workflows").glob("*.y*ml")),
    ]
    for path in scanned:
        problems += [Problem(str(path.relative_to(root)), m) for m in account_literals(path)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    problems = check_repository(args.root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"deploy checks: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(json.dumps({"deploy_checks": "ok", "environments": list(ENVS)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
