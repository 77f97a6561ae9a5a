"""The deploy checks pass on the repository's files and fail on broken copies of them.

Every check runs as CI runs it: the real tools (check-jsonschema, zizmor, hadolint,
shellcheck) and the repository's own scripts, as subprocesses. The tools come from
the same environment as pytest (``nox -s deploy_checks`` installs the deploy group).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WORKFLOWS = ROOT / ".github" / "workflows"
DOCKERFILES = [ROOT / "services/api/Dockerfile", ROOT / "services/worker/Dockerfile"]
BIN = Path(sys.executable).parent


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, check=False
    )


def tool(name: str) -> Path:
    path = BIN / name
    assert path.exists(), (
        f"{name} is not installed next to pytest: run `uv run nox -s deploy_checks`"
    )
    return path


@pytest.fixture
def copy_root(tmp_path: Path) -> Path:
    """A copy of the files the checks read, to break."""
    shutil.copytree(DEPLOY / "taskdefs", tmp_path / "deploy" / "taskdefs")
    shutil.copytree(DEPLOY / "iam", tmp_path / "deploy" / "iam")
    shutil.copytree(WORKFLOWS, tmp_path / ".github" / "workflows")
    return tmp_path


def check_structure(root: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, DEPLOY / "check_deploy.py", "--root", root)


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def container(document: Any) -> Any:
    return document["containerDefinitions"][0]


# --- structural checks of task definitions and IAM documents -------------------------


def test_repository_passes_structural_checks() -> None:
    result = check_structure(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {"deploy_checks": "ok", "environments": ["dev", "prod"]}


def _drop_secret(name: str) -> Callable[[Any], None]:
    def change(td: Any) -> None:
        container(td)["secrets"] = [s for s in container(td)["secrets"] if s["name"] != name]

    return change


def _set(key: str, value: Any) -> Callable[[Any], None]:
    def change(td: Any) -> None:
        container(td)[key] = value

    return change


def _drop_log_group(td: Any) -> None:
    del container(td)["logConfiguration"]["options"]["awslogs-group"]


def _plaintext_stripe_key(td: Any) -> None:
    container(td)["environment"].append({"name": "STRIPE_KEY", "value": "sk_test_abc123"})
    container(td)["secrets"] = [
        s for s in container(td)["secrets"] if s["name"] != "STRIPE_SECRET_KEY"
    ]


def _set_env(name: str, value: str) -> Callable[[Any], None]:
    def change(td: Any) -> None:
        for variable in container(td)["environment"]:
            if variable["name"] == name:
                variable["value"] = value

    return change


def _other_task_role(td: Any) -> None:
    td["taskRoleArn"] = "arn:aws:iam::${ACCOUNT_ID}:role/counterpromo-${ENV}-task-worker"


def _hard_coded_account(td: Any) -> None:
    td["executionRoleArn"] = "arn:aws:iam::123456789012:role/counterpromo-dev-ecs-exec-default"


def _dev_secret_in_every_env(td: Any) -> None:
    for secret in container(td)["secrets"]:
        secret["valueFrom"] = secret["valueFrom"].replace("${ENV}", "dev")


@pytest.mark.parametrize(
    ("service", "change", "expected"),
    [
        ("api", _drop_secret("STRIPE_WEBHOOK_SECRET"), "secret STRIPE_WEBHOOK_SECRET is missing"),
        ("worker", _drop_secret("PGPASSWORD"), "secret PGPASSWORD is missing"),
        (
            "api",
            _set("portMappings", [{"containerPort": 8080, "protocol": "tcp"}]),
            "api must expose exactly port 3000",
        ),
        ("api", _drop_log_group, "log group must be /ecs/counterpromo-dev"),
        ("worker", _set("stopTimeout", 10), "worker stopTimeout must be 30..120"),
        ("api", _set("stopTimeout", 20), "api stopTimeout must be 30..120"),
        ("api", _set_env("FORWARDED_ALLOW_IPS", "10.10.0.0/16"), "FORWARDED_ALLOW_IPS must be"),
        ("api", _set_env("COUNTERPROMO_API_PREFIX", "/v1"), "COUNTERPROMO_API_PREFIX must be"),
        ("worker", _other_task_role, "taskRoleArn must be the stack's role"),
        ("worker", _set("user", "root"), "non-root user"),
        ("api", _set("readonlyRootFilesystem", False), "readonlyRootFilesystem must be true"),
        ("api", _plaintext_stripe_key, "STRIPE_KEY looks like a secret"),
        ("api", _hard_coded_account, "account id literal"),
        ("worker", _dev_secret_in_every_env, "[prod]: secret PGHOST must come from"),
    ],
    ids=[
        "api-missing-secret",
        "worker-missing-secret",
        "wrong-port",
        "missing-log-group",
        "short-stop-timeout",
        "api-stop-below-uvicorn-grace",
        "hard-coded-forwarded-ips",
        "no-api-prefix",
        "not-the-stacks-role",
        "root-user",
        "writable-root",
        "plaintext-secret",
        "account-literal",
        "other-env-secret",
    ],
)
def test_broken_task_definition_fails(
    copy_root: Path, service: str, change: Callable[[Any], None], expected: str
) -> None:
    assert check_structure(copy_root).returncode == 0
    edit_json(copy_root / "deploy" / "taskdefs" / f"{service}.json", change)
    result = check_structure(copy_root)
    assert result.returncode == 1
    assert expected in result.stdout, result.stdout


def _grant_on_everything(policy: Any) -> None:
    policy["Statement"][1]["Resource"] = "*"


def _wildcard_action(policy: Any) -> None:
    policy["Statement"][0]["Action"] = ["s3:*"]


def _any_branch(trust: Any) -> None:
    condition = trust["Statement"][0]["Condition"]
    subject = condition["StringEquals"].pop("token.actions.githubusercontent.com:sub")
    condition["StringLike"] = {"token.actions.githubusercontent.com:sub": subject[:-4] + "*"}


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("task-role-api.policy.json", _grant_on_everything, 'Resource "*" on s3:DeleteObject'),
        ("task-role-worker.policy.json", _wildcard_action, "wildcard action s3:*"),
        ("github-deployer-dev.trust.json", _any_branch, "StringEquals only"),
    ],
    ids=["resource-star", "action-star", "trust-any-branch"],
)
def test_broken_iam_document_fails(
    copy_root: Path, name: str, change: Callable[[Any], None], expected: str
) -> None:
    edit_json(copy_root / "deploy" / "iam" / name, change)
    result = check_structure(copy_root)
    assert result.returncode == 1
    assert expected in result.stdout, result.stdout


def test_account_id_in_a_workflow_fails(copy_root: Path) -> None:
    workflow = copy_root / ".github" / "workflows" / "deploy-dev.yml"
    workflow.write_text(
        workflow.read_text().replace("${{ vars.AWS_ACCOUNT_ID }}", "123456789012", 1)
    )
    result = check_structure(copy_root)
    assert result.returncode == 1
    assert ".github/workflows/deploy-dev.yml: line" in result.stdout


# --- rendering ------------------------------------------------------------------------


def render(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, DEPLOY / "render_template.py", *args)


def test_render_fills_every_placeholder() -> None:
    image = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/counterpromo-api:" + "a" * 40
    result = render(
        str(DEPLOY / "taskdefs" / "api.json"),
        *("--env", "dev", "--account-id", "123456789012", "--region", "eu-west-2"),
        *("--image", image, "--vpc-cidr", "10.10.0.0/16"),
    )
    assert result.returncode == 0, result.stderr
    assert "${" not in result.stdout
    rendered = json.loads(result.stdout)
    assert rendered["family"] == "counterpromo-dev-td-api"
    assert rendered["containerDefinitions"][0]["image"] == image
    assert rendered["taskRoleArn"] == "arn:aws:iam::123456789012:role/counterpromo-dev-ecs-task-app"
    environment = {
        e["name"]: e["value"] for e in rendered["containerDefinitions"][0]["environment"]
    }
    assert environment["FORWARDED_ALLOW_IPS"] == "10.10.0.0/16"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--account-id", "123456789012"], "no value for IMAGE"),
        (["--account-id", "1234", "--image", "r.io/x:1"], "is not a valid account id"),
        (["--account-id", "123456789012", "--image", "x; rm -rf /"], "is not a valid image"),
    ],
    ids=["missing-image", "bad-account", "bad-image"],
)
def test_render_refuses_incomplete_or_malformed_values(args: list[str], expected: str) -> None:
    template = str(DEPLOY / "taskdefs" / "worker.json")
    result = render(template, "--env", "prod", "--region", "eu-west-2", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert expected in result.stderr


# --- workflows: schema and zizmor -------------------------------------------------------


def validate_workflows(directory: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(directory.glob("*.yml"))
    assert len(files) >= 3
    schema = ("--builtin-schema", "vendor.github-workflows")
    return run(tool("check-jsonschema"), *schema, *files)


def test_workflows_match_the_github_schema() -> None:
    result = validate_workflows(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("runs-on: ubuntu-24.04", "runs-on: [ubuntu-24.04"),  # YAML syntax error
        ("timeout-minutes: 60", "timeout-minutes: an hour"),  # wrong type
        ("    steps:\n", "    stepz:\n"),  # unknown key
    ],
    ids=["yaml-syntax", "wrong-type", "unknown-key"],
)
def test_broken_workflow_fails_the_schema(copy_root: Path, old: str, new: str) -> None:
    workflow = copy_root / ".github" / "workflows" / "deploy-dev.yml"
    assert old in workflow.read_text()
    workflow.write_text(workflow.read_text().replace(old, new, 1))
    result = validate_workflows(workflow.parent)
    assert result.returncode != 0
    assert "deploy-dev.yml" in result.stdout + result.stderr


def zizmor(directory: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("zizmor"), "--offline", "--no-progress", directory)


def test_workflows_have_no_zizmor_findings() -> None:
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "audit"),
    [
        (
            "run: uv run nox",
            'run: echo "${{ github.event.pull_request.title }}" && uv run nox',
            "template-injection",
        ),
        (
            "aws-actions/configure-aws-credentials@b47578312673ae6fa5b5096b330d9fbac3d116df",
            "aws-actions/configure-aws-credentials@v4",
            "unpinned-uses",
        ),
    ],
    ids=["template-injection", "unpinned-action"],
)
def test_insecure_workflow_fails_zizmor(copy_root: Path, old: str, new: str, audit: str) -> None:
    directory = copy_root / ".github" / "workflows"
    for workflow in directory.glob("*.yml"):
        workflow.write_text(workflow.read_text().replace(old, new))
    result = zizmor(directory)
    assert result.returncode != 0
    assert audit in result.stdout


# --- Dockerfiles and the release script -------------------------------------------------


def test_dockerfiles_pass_hadolint() -> None:
    result = run(tool("hadolint"), *DOCKERFILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_careless_dockerfile_fails_hadolint(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    text = DOCKERFILES[0].read_text()
    dockerfile.write_text(text.replace("FROM python:3.11-slim-bookworm\n", "FROM python:latest\n"))
    result = run(tool("hadolint"), dockerfile)
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_release_script_passes_shellcheck(tmp_path: Path) -> None:
    script = DEPLOY / "release.sh"
    assert run(tool("shellcheck"), script).returncode == 0
    broken = tmp_path / "release.sh"
    broken.write_text(script.read_text().replace('"$task_definition"', "$task_definition"))
    result = run(tool("shellcheck"), broken)
    assert result.returncode != 0
    assert "SC2086" in result.stdout
