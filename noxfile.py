"""Project automation. ``uv run nox`` runs lint, typecheck, every member's tests, the deploy
checks and the system tests; ``uv run nox -s bench`` prints the benchmarks.

Each member's tests run in an environment that holds only that member's own
dependencies (``uv sync --package NAME --locked --exact``), so a member that
imports something it does not declare fails here, not in production.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "build", "tests", "deploy_checks", "system"]

ROOT = Path(__file__).parent
MEMBERS = {
    "counterpromo-core": "packages/core",
    "counterpromo-storage": "packages/storage",
    "counterpromo-billing": "packages/billing",
    "counterpromo-testing": "packages/testing",
    "counterpromo-api": "services/api",
    "counterpromo-worker": "services/worker",
    "counterpromo-cli": "tools/cli",
}


def _sync(session: nox.Session, *args: str) -> None:
    """Install into this session's virtualenv from the lock file, nothing else."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--exact",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    _sync(session, "--only-group", "dev", "--no-install-workspace")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every member's src and tests, the deploy tools and the system tests."""
    _sync(session, "--all-packages", "--group", "system")
    for path in MEMBERS.values():
        targets = [f"{path}/src", *([f"{path}/tests"] if (ROOT / path / "tests").exists() else [])]
        session.run("mypy", *targets)
    session.run("mypy", "deploy/render_template.py", "deploy/check_deploy.py", "deploy/tests")
    session.run("mypy", "tests/system")
    session.run("mypy", "noxfile.py")


@nox.session
@nox.parametrize("member", list(MEMBERS))
def tests(session: nox.Session, member: str) -> None:
    """pytest for one member, with only that member's declared dependencies installed."""
    _sync(session, "--package", member)
    path = MEMBERS[member]
    args = session.posargs or [f"{path}/tests"]
    session.run("pytest", *args, env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session
def deploy_checks(session: nox.Session) -> None:
    """Workflows, Dockerfiles, the release script, task definitions and IAM documents."""
    _sync(session, "--only-group", "deploy", "--no-install-workspace")
    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("zizmor", "--offline", ".github/workflows")
    session.run("hadolint", "services/api/Dockerfile", "services/worker/Dockerfile")
    session.run("shellcheck", "deploy/release.sh")
    session.run("python", "deploy/check_deploy.py")
    session.run("pytest", "deploy/tests", env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session
def system(session: nox.Session) -> None:
    """System tests: 2 API processes and 2 workers on one PostgreSQL, moto and the fake
    Stripe, with faults (kill -9, SIGTERM, database and AWS outages), a webhook storm and load."""
    _sync(session, "--only-group", "system", "--compile-bytecode")
    session.run("pytest", "tests/system", *session.posargs)


# Files other than modules that a wheel must carry for its package to work when installed.
WHEEL_DATA = {
    "counterpromo_core": "counterpromo_core/migrations/versions/0001_initial_schema.py",
    "counterpromo_worker": "counterpromo_worker/templates/multi-product.typ",
    "counterpromo_cli": "counterpromo_cli/data/sample-products.csv",
}


@nox.session(venv_backend="none")
def build(session: nox.Session) -> None:
    """Build one wheel and sdist per member, each carrying its data files."""
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "-q", "-o", str(out), external=True)
    wheels = sorted(out.glob("*.whl"))
    session.log(f"built {len(wheels)} wheels: {', '.join(p.name for p in wheels)}")
    if len(wheels) != len(MEMBERS):
        session.error(f"expected {len(MEMBERS)} wheels, got {len(wheels)}")
    for wheel in wheels:
        expected = WHEEL_DATA.get(wheel.name.split("-")[0])
        if expected and expected not in zipfile.ZipFile(wheel).namelist():
            session.error(f"{wheel.name} lacks {expected}")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks (figures, no pass/fail): a 12-item render in process vs. the worker's
    end-to-end render jobs per second through SQS/S3 (moto) and PostgreSQL, and their ratio;
    the CLI's ``--help`` start-up against ``import typer, rich``; the system bench."""
    _sync(session, "--package", "counterpromo-cli")
    session.run("python", "tools/cli/bench/startup_bench.py")
    _sync(session, "--package", "counterpromo-worker")
    session.run("python", "services/worker/bench/worker_bench.py", *session.posargs)
    # The system bench (issue 10): API vs. a bare Starlette + psycopg baseline, POST promos,
    # webhooks vs. signature verification, worker end to end vs. the raw render loop, time to
    # ready and peak RSS; prints the table and writes bench-results.json.
    _sync(session, "--only-group", "system", "--compile-bytecode")
    session.run("python", "tests/system/bench/run_bench.py")
