"""Project automation. ``uv run nox`` runs lint, typecheck, every member's tests (with branch
coverage and a floor per member), the deploy checks and the system tests. Not in the default
run: ``bench`` (benchmarks), ``consumers`` (the libraries installed alone from wheels, as
another team would), ``mutation`` (the killed share of mutants of the rule modules) and
``bump`` (a member's version and its dependents' pins) and ``system_under_load`` (the system
tests three times beside a CPU hog on every core).

Each member's tests run in an environment that holds only that member's own
dependencies (``uv sync --package NAME --locked --exact``), so a member that
imports something it does not declare fails here, not in production.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "build",
    "tests",
    "infra",
    "deploy_checks",
    "system",
]

ROOT = Path(__file__).parent
MEMBERS = {
    "counterpromo-core": "packages/core",
    "counterpromo-storage": "packages/storage",
    "counterpromo-billing": "packages/billing",
    "counterpromo-testing": "packages/testing",
    "counterpromo-api": "services/api",
    "counterpromo-worker": "services/worker",
    "counterpromo-cli": "tools/cli",
    "counterpromo-infra": "infra",
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
    session.run("mypy", "noxfile.py", "scripts")


# Branch coverage floors (percent) per member; docs/testing.md gives the measured figures and
# the reasons for each floor. The tests session fails below its member's floor.
COVERAGE_FLOORS = {
    "counterpromo-core": 90,
    "counterpromo-storage": 90,
    "counterpromo-billing": 90,
    "counterpromo-testing": 70,
    "counterpromo-api": 78,
    "counterpromo-worker": 85,
    "counterpromo-cli": 68,
    "counterpromo-infra": 90,
}


def _import_name(member: str) -> str:
    return member.replace("-", "_")


@nox.session
@nox.parametrize("member", list(MEMBERS))
def tests(session: nox.Session, member: str) -> None:
    """pytest for one member, with only that member's declared dependencies installed, with
    branch coverage of that member's package and its floor (posargs: run these tests instead,
    without the floor)."""
    _sync(session, "--package", member)
    path = MEMBERS[member]
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    if session.posargs:
        session.run("pytest", *session.posargs, env=env)
        return
    # coverage starts before pytest, so modules pytest imports early (entry-point plugins
    # such as counterpromo-testing's) are measured from their first line.
    data = Path(session.create_tmp()) / ".coverage"
    env["COVERAGE_FILE"] = str(data)
    package = _import_name(member)
    session.run("coverage", "run", f"--source={package}", "-m", "pytest", f"{path}/tests", env=env)
    session.run(
        "coverage",
        "report",
        "--skip-covered",
        f"--fail-under={COVERAGE_FLOORS[member]}",
        env=env,
    )


# cfn-lint rules the synthesized templates break on purpose, each with its reason.
CFN_LINT_IGNORED = {
    # Synthesis is offline (no context lookups): the two AZs are named from the region.
    "W3010",
}


@nox.session
def infra(session: nox.Session) -> None:
    """Synthesize the dev and prod stacks offline (cdk-nag runs inside synthesis and writes
    its report; its findings fail infra's tests), then cfn-lint and checkov on every template."""
    _sync(session, "--package", "counterpromo-infra")
    out = Path(session.create_tmp()) / "cdk.out"
    shutil.rmtree(out, ignore_errors=True)
    templates = []
    for env, account in (("dev", "437064342167"), ("prod", "210987654321")):
        session.run(
            "counterpromo-infra", "synth", "--env", env, "--account", account,
            "--out", str(out / env), silent=True,
        )  # fmt: skip
        templates.append(str(out / env / f"CounterPromo-{env}.template.json"))
    for report in sorted(out.glob("*/AwsSolutions-*NagReport.csv")):
        if "Non-Compliant" in report.read_text():
            session.error(f"cdk-nag: unsuppressed findings in {report}")
    session.run("cfn-lint", "--ignore-checks", *sorted(CFN_LINT_IGNORED), "--", *templates)
    # 0 failed checks; each skip is in the template's metadata with its reason.
    files = [arg for template in templates for arg in ("-f", template)]
    session.run("checkov", *files, "--framework", "cloudformation", "--compact", "--quiet")


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
    session.run("pytest", "deploy/tests", "scripts/tests", env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session
def system(session: nox.Session) -> None:
    """System tests: 2 API processes and 2 workers on one PostgreSQL, moto and the fake
    Stripe, with faults (kill -9, SIGTERM, database and AWS outages), a webhook storm and load."""
    _sync(session, "--only-group", "system", "--compile-bytecode")
    session.run("pytest", "tests/system", *session.posargs)


@nox.session(default=False)
def system_under_load(session: nox.Session) -> None:
    """The system tests several times in a row (``-- RUNS``, default 3) with a busy loop
    on every core beside them: they must hold on a machine that is not quiet."""
    runs = int(session.posargs[0]) if session.posargs else 3
    _sync(session, "--only-group", "system", "--compile-bytecode")
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        for run in range(1, runs + 1):
            started = time.monotonic()
            session.run("pytest", "tests/system", "-q")
            took = time.monotonic() - started
            session.log(f"run {run}/{runs}: green in {took:.0f} s beside {len(hogs)} CPU hogs")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


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
        problems = _wheel_problems(wheel)
        if problems:
            session.error(f"{wheel.name}: {'; '.join(problems)}")
    session.log("every wheel: metadata version = pyproject version, licence, py.typed, data")


def _wheel_problems(wheel: Path) -> list[str]:
    """What is wrong with a built wheel: its metadata must say what the member's pyproject
    says (name, version, pinned internal requirements), and it must carry its files."""
    package = wheel.name.split("-")[0]
    member = package.replace("_", "-")
    project = tomllib.loads((ROOT / MEMBERS[member] / "pyproject.toml").read_text())["project"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_path = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(metadata_path))
    problems = []
    if metadata["Version"] != project["version"]:
        problems.append(f"metadata version {metadata['Version']} != pyproject {project['version']}")
    for requirement in metadata.get_all("Requires-Dist") or []:
        if requirement.startswith("counterpromo-") and "<" not in requirement:
            problems.append(f"unpinned internal requirement {requirement!r}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        problems.append("no LICENSE")
    if f"{package}/py.typed" not in names:
        problems.append("no py.typed")
    expected = WHEEL_DATA.get(package)
    if expected and expected not in names:
        problems.append(f"lacks {expected}")
    return problems


@nox.session(default=False)
def gallery(session: nox.Session) -> None:
    """Every template x paper x (12, 40 items) x locale rendered into gallery-out/ (gitignored)
    with a contact sheet. Options after ``--``: ``--locales en-GB,en-US --ppi 48 --out DIR``."""
    _sync(session, "--package", "counterpromo-worker")
    session.run("python", "services/worker/gallery/gallery.py", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks (figures, no pass/fail): a 12-item render in process vs. the worker's
    end-to-end render jobs per second through SQS/S3 (moto) and PostgreSQL, and their ratio;
    the CLI's ``--help`` start-up against ``import typer, rich``; the system bench."""
    _sync(session, "--package", "counterpromo-cli")
    session.run("python", "tools/cli/bench/startup_bench.py")
    _sync(session, "--package", "counterpromo-worker")
    session.run("python", "services/worker/bench/worker_bench.py", *session.posargs)
    # Issue 16: the parser's peak memory on 5 MiB files of tiny rows (CSV and XLSX) and other
    # row shapes; streaming keeps it a few MiB whatever the shape.
    session.run("python", "services/worker/bench/parse_memory_bench.py")
    # Adoption of the original application's database (issue 14): rows carried per second.
    _sync(session, "--package", "counterpromo-cli")
    session.run("python", "packages/core/bench/adopt_bench.py")
    # The system bench (issue 10): API vs. a bare Starlette + psycopg baseline, POST promos,
    # webhooks vs. signature verification, worker end to end vs. the raw render loop, time to
    # ready and peak RSS; prints the table and writes bench-results.json.
    _sync(session, "--only-group", "system", "--compile-bytecode")
    session.run("python", "tests/system/bench/run_bench.py")


# The libraries another team installs alone, and the README whose examples prove it. Each
# venv gets the distribution alone first (it must resolve from the wheels folder plus the
# public index for third-party packages), then what its README's examples need.
CONSUMERS = {
    "counterpromo-storage": ("packages/storage/README.md", ["counterpromo-storage[testing]"]),
    "counterpromo-billing": (
        "packages/billing/README.md",
        ["counterpromo-billing[testing]", "counterpromo-testing"],
    ),
}


# Run in each consumer venv (pytest comes with the [testing] extra): a project that installs
# the extra but does not opt in (pytest_plugins) gets none of our fixtures.
_OPT_IN_TEST = """
def test_our_plugins_are_opt_in(pytestconfig):
    plugins = pytestconfig.pluginmanager.list_name_plugin()
    loaded = [getattr(plugin, "__name__", "") for _, plugin in plugins]
    ours = ("counterpromo_storage", "counterpromo_billing")
    assert [name for name in loaded if name.startswith(ours)] == []
"""


@nox.session(venv_backend="none", default=False)
def consumers(session: nox.Session) -> None:
    """Build the wheels, then install billing alone and storage alone into fresh virtualenvs
    outside the repository and run each README's examples there (doctest)."""
    with tempfile.TemporaryDirectory(prefix="counterpromo-consumers-") as tmp:
        outside = Path(tmp)
        wheels = outside / "wheels"
        session.run("uv", "build", "--all-packages", "-q", "-o", str(wheels), external=True)
        session.log(f"wheels: {', '.join(sorted(p.name for p in wheels.glob('*.whl')))}")
        for name, (readme, extras) in CONSUMERS.items():
            venv = outside / f"venv-{name}"
            python = str(venv / "bin" / "python")
            session.run("uv", "venv", "-q", "--python", sys.executable, str(venv), external=True)
            install = [
                "uv",
                "pip",
                "install",
                "-q",
                "--python",
                python,
                "--find-links",
                str(wheels),
            ]
            session.run(*install, name, external=True)
            session.run(python, "-c", f"import {_import_name(name)}", external=True)
            session.run(*install, *extras, external=True)
            installed = session.run(
                "uv", "pip", "list", "--python", python, external=True, silent=True
            )
            ours = [line for line in str(installed).splitlines() if "counterpromo" in line]
            session.log(f"{name} venv holds: {'; '.join(' '.join(o.split()) for o in ours)}")
            work = outside / f"run-{name}"
            work.mkdir()
            shutil.copy(ROOT / readme, work / "README.md")
            session.chdir(work)
            session.run(
                python,
                "-m",
                "doctest",
                "-o",
                "ELLIPSIS",
                "-o",
                "NORMALIZE_WHITESPACE",
                "README.md",
                external=True,
            )
            session.log(f"{name}: README examples pass outside the repository")
            (work / "test_opt_in.py").write_text(_OPT_IN_TEST)
            session.run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", external=True)
            session.log(f"{name}: its pytest plugin stays out of a run that did not opt in")
            session.chdir(ROOT)


@nox.session(default=False)
def mutation(session: nox.Session) -> None:
    """Mutation testing (cosmic-ray) of the rule modules: usage, idempotency, webhooks,
    event store, subscription sync, queue backoff and redrive. Prints the killed share per
    module and fails below 90% (docs/testing.md). Posargs go to scripts/mutation.py."""
    _sync(session, "--all-packages", "--group", "mutation")
    session.run("python", "scripts/mutation.py", *session.posargs)


@nox.session(venv_backend="none", default=False)
def bump(session: nox.Session) -> None:
    """Bump a member's version and re-pin its dependents: ``nox -s bump -- NAME minor``."""
    if len(session.posargs) != 2:
        session.error("usage: nox -s bump -- counterpromo-core major|minor|patch|X.Y.Z")
    session.run(sys.executable, "scripts/bump_version.py", *session.posargs)
