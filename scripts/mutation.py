"""Mutation testing of the rule modules with cosmic-ray; prints the killed share per module.

Run it through ``uv run nox -s mutation`` (not part of the default run). What it does:

1. Copies the working tree (tracked and untracked, not ignored files) to a temporary
   directory, one copy per target, so the mutations cosmic-ray writes into the source never
   touch the checkout nor the code another target's tests are running.
2. Starts one PostgreSQL for the whole run (``counterpromo_testing.database_server``: the
   embedded one, or the server ``COUNTERPROMO_TEST_DATABASE_URL`` names), migrates one
   template database there, and hands both to every test run, so a mutant costs its tests,
   not a server start and a migration.
3. For each target module (``--jobs`` at a time, each its own cosmic-ray session):
   ``cosmic-ray init``, our filter (below), a baseline run of the target's tests on the
   unmutated copy (it must pass), ``cosmic-ray exec``, then the counts.
4. Prints a table and exits non-zero when the overall killed share is below ``--floor``.

The filter keeps the run bounded and the score honest:

- only the functions that hold the rule (``Target.functions``): the counting statement and
  the month arithmetic of usage, the stored-event rules (store once, lock, never overwrite a
  processed event), webhook processing and subscription sync, the queue's backoff and
  redrive, the idempotency-key pruning; not the modules' readers and reports;
- no mutation inside a type annotation (inert under ``from __future__ import annotations``:
  ``X | None`` -> ``X & None`` changes nothing at run time, so it would be a false survivor),
  nor of the keyword-only marker ``*`` of a signature (cosmic-ray takes it for a
  multiplication), nor of a decorator's arguments (``@dataclass(frozen=True)``);
- no mutation on a line marked ``# pragma: no mutate`` (cosmic-ray's ``cr-filter-pragma``
  convention): an equivalent mutant, with the reason on the line; docs/testing.md lists them;
- one replacement per operator (``+`` -> ``-``, ``*`` -> ``/``, ``==`` -> ``!=``, ``<`` -> ``<=``,
  ``is`` -> ``is not``..., the convention mutmut follows) instead of cosmic-ray's six to eleven
  per operator, which would multiply the run time for mutants the first one already covers.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult
from counterpromo_testing.databases import ENV_VAR, TEMPLATE_ENV_VAR, database_server

ROOT = Path(__file__).resolve().parents[1]
SRC_DIRS = (
    "packages/core/src",
    "packages/storage/src",
    "packages/billing/src",
    "packages/testing/src",
)
BILLING_TESTS = (
    "packages/billing/tests/test_event_store.py",
    "packages/billing/tests/test_webhook_processing.py",
    "packages/billing/tests/test_webhook_disorder.py",
    "packages/billing/tests/test_one_live_subscription.py",
    # 15 s of sampled orders: the storm and the delayed-event tests cover the same rules.
    "--deselect",
    "packages/billing/tests/test_webhook_disorder.py"
    "::test_every_sampled_order_of_a_life_ends_in_the_same_state",
)
# The one replacement kept per binary or comparison operator (cosmic-ray's operator names).
PREFERRED = {
    "Eq": "NotEq",
    "NotEq": "Eq",
    "Lt": "LtE",
    "LtE": "Lt",
    "Gt": "GtE",
    "GtE": "Gt",
    "Is": "IsNot",
    "IsNot": "Is",
    "Add": "Sub",
    "Sub": "Add",
    "Mul": "Div",
    "Div": "Mul",
    "FloorDiv": "Div",
    "Mod": "FloorDiv",
    "Pow": "Mul",
    "LShift": "RShift",
    "RShift": "LShift",
    "BitOr": "BitAnd",
    "BitAnd": "BitOr",
    "BitXor": "BitOr",
}


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    tests: tuple[str, ...]
    functions: frozenset[str] | None = None


TARGETS = (
    Target(
        "idempotency",
        "packages/core/src/counterpromo_core/idempotency.py",
        ("packages/core/tests/test_idempotency.py",),
        frozenset({"prune_expired"}),
    ),
    Target(
        "webhooks",
        "packages/billing/src/counterpromo_billing/webhooks.py",
        BILLING_TESTS,
        frozenset({"_process", "_locked_event"}),
    ),
    Target(
        "event_store",
        "packages/billing/src/counterpromo_billing/event_store.py",
        BILLING_TESTS,
        frozenset({"store_event", "lock_event", "record_failure"}),
    ),
    Target(
        "usage",
        "packages/core/src/counterpromo_core/usage.py",
        ("packages/core/tests/test_usage.py",),
        frozenset(
            {"consume", "_plan_limit", "_raise_limit_exceeded", "month_start", "next_month_start"}
        ),
    ),
    Target(
        "subscription_sync",
        "packages/billing/src/counterpromo_billing/subscription_sync.py",
        BILLING_TESTS,
        frozenset({"sync_for_event", "lock_event_account", "_current_state", "_plan_for"}),
    ),
    Target(
        "queue (backoff, redrive)",
        "packages/storage/src/counterpromo_storage/queue.py",
        ("packages/storage/tests/test_queue.py",),
        frozenset({"backoff_visibility", "dlq_redrive", "dlq_redrive_one"}),
    ),
)


@dataclass
class Score:
    name: str
    killed: int = 0
    survived: int = 0
    skipped: int = 0
    seconds: float = 0.0
    survivors: tuple[str, ...] = ()

    @property
    def tested(self) -> int:
        return self.killed + self.survived

    @property
    def share(self) -> float:
        return self.killed / self.tested if self.tested else 1.0


Span = tuple[tuple[int, int], tuple[int, int]]


def _position(node: ast.AST, *, end: bool = False) -> tuple[int, int]:
    if end:
        return (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


PRAGMA = "# pragma: no mutate"


def _pragma_lines(source: str) -> frozenset[int]:
    """The (1-based) lines marked ``# pragma: no mutate``: an equivalent mutant, said why."""
    return frozenset(n for n, line in enumerate(source.splitlines(), 1) if PRAGMA in line)


def _inert_spans(source: str) -> dict[str, list[Span]]:
    """Where a mutation cannot change behaviour, by kind: annotations, signatures (the ``*``
    that makes parameters keyword-only is not a multiplication), decorators."""
    spans: dict[str, list[Span]] = {"annotation": [], "signature": [], "decorator": []}
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            spans["decorator"] += [
                (_position(d), _position(d, end=True)) for d in node.decorator_list
            ]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
            spans["signature"].append((_position(node), _position(node.body[0])))
        spans["annotation"] += [
            (_position(a), _position(a, end=True)) for a in annotations if a is not None
        ]
    return spans


def _skip_reason(
    operator: str,
    definition: str | None,
    start: tuple[int, int],
    target: Target,
    spans: dict[str, list[Span]],
) -> str | None:
    def inside(kind: str) -> bool:
        return any(low <= start < high for low, high in spans[kind])

    if target.functions is not None and definition not in target.functions:
        return f"outside the rule functions ({definition})"
    if inside("annotation"):
        return "inside a type annotation"
    if inside("decorator"):
        return "a decorator's declaration (frozen=True...)"
    if operator.startswith("core/ReplaceBinaryOperator_Mul") and inside("signature"):
        return "the keyword-only marker of a signature"
    if operator.startswith(("core/ReplaceBinaryOperator_", "core/ReplaceComparisonOperator_")):
        _, source_op, replacement = operator.rsplit("_", 2)
        if PREFERRED.get(source_op) != replacement:
            return "one replacement per operator"
    return None


def _filter(session: Path, module: Path, target: Target) -> int:
    source = module.read_text()
    spans = _inert_spans(source)
    pragmas = _pragma_lines(source)
    skipped = 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.work_items):
            # cosmic-ray positions are 1-based lines and 0-based columns, like ast's.
            reasons = [
                PRAGMA
                if m.start_pos[0] in pragmas
                else _skip_reason(m.operator_name, m.definition_name, m.start_pos, target, spans)
                for m in item.mutations
            ]
            if all(reasons):
                db.set_result(
                    item.job_id,
                    WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reasons[0]),
                )
                skipped += 1
    return skipped


def _tree(work: Path, target: Target) -> Path:
    """The target's own copy of the working tree: targets run in parallel, and a mutant
    written into a tree another target's tests import would decide that target's outcomes."""
    return work / Path(target.module).stem / "tree"


def _config(work: Path, target: Target, timeout: float) -> Path:
    tests = " ".join(target.tests)
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider --no-header {tests}"
    config = work / f"{Path(target.module).stem}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{_tree(work, target) / target.module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {command!r}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    return config


def _copy_tree(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)


def _run_target(work: Path, target: Target, base_env: dict[str, str], timeout: float) -> Score:
    score = Score(target.name)
    tree = _tree(work, target)
    _copy_tree(tree)
    env = {**base_env, "PYTHONPATH": os.pathsep.join(str(tree / d) for d in SRC_DIRS)}
    config = _config(work, target, timeout)
    session = work / f"{Path(target.module).stem}.sqlite"
    started = time.monotonic()
    cosmic = [str(Path(sys.executable).parent / "cosmic-ray")]
    log = work / f"{Path(target.module).stem}.log"

    def run(*command: str) -> int:
        with log.open("a") as out:
            return subprocess.run(
                command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            ).returncode

    if run(*cosmic, "init", str(config), str(session)) != 0:
        raise SystemExit(f"{target.name}: cosmic-ray init failed (see {log})")
    score.skipped = _filter(session, tree / target.module, target)
    if run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *target.tests) != 0:
        raise SystemExit(f"{target.name}: the tests fail without any mutation (see {log})")
    if run(*cosmic, "exec", str(config), str(session)) != 0:
        raise SystemExit(f"{target.name}: cosmic-ray exec failed (see {log})")
    survivors = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = {item.job_id: item for item in db.work_items}
        for job_id, result in db.results:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            if result.test_outcome == TestOutcome.SURVIVED:
                score.survived += 1
                mutation = items[job_id].mutations[0]
                survivors.append(
                    f"{mutation.definition_name}:{mutation.start_pos[0]} {mutation.operator_name}"
                )
            else:
                score.killed += 1
    score.survivors = tuple(survivors)
    score.seconds = time.monotonic() - started
    return score


def _print(scores: list[Score]) -> tuple[int, int]:
    print("\nmutation score (killed / tested; skipped = filtered out before the run)")
    print(f"{'module':28} {'killed':>7} {'tested':>7} {'share':>7} {'skipped':>8} {'time':>7}")
    for s in scores:
        print(
            f"{s.name:28} {s.killed:7} {s.tested:7} {s.share:7.1%} {s.skipped:8} {s.seconds:6.0f}s"
        )
    killed = sum(s.killed for s in scores)
    tested = sum(s.tested for s in scores)
    share = killed / tested if tested else 1.0
    print(f"{'total':28} {killed:7} {tested:7} {share:7.1%}")
    for s in scores:
        for survivor in s.survivors:
            print(f"  survived: {s.name}: {survivor}")
    return killed, tested


def main() -> None:
    # A plain SIGTERM (nox interrupted, a CI timeout) still stops the PostgreSQL we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=0.90, help="minimum killed share")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    parser.add_argument("--only", action="append", help="run only targets with this name")
    parser.add_argument("--jobs", type=int, default=2, help="targets run at the same time")
    args = parser.parse_args()
    targets = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    with tempfile.TemporaryDirectory(prefix="counterpromo-mutation-") as tmp:
        work = Path(tmp)
        with database_server() as server:
            env = {
                **os.environ,
                ENV_VAR: server.admin_url,
                TEMPLATE_ENV_VAR: server.migrated_template(),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            with ThreadPoolExecutor(max(1, args.jobs)) as pool:
                scores = list(pool.map(lambda t: _run_target(work, t, env, args.timeout), targets))
    killed, tested = _print(scores)
    if tested == 0 or killed / tested < args.floor:
        raise SystemExit(f"mutation score {killed}/{tested} is below {args.floor:.0%}")


if __name__ == "__main__":
    main()
