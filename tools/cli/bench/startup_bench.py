"""CLI start-up benchmark: ``counterpromo ... --help`` against ``python -c 'import typer, rich'``.

Run ``uv run nox -s bench`` (or ``python tools/cli/bench/startup_bench.py``). Each line is the
median wall time of fresh interpreters, its ratio to the typer+rich import and the peak RSS
of one run. Figures only, no pass/fail (``tools/cli/tests/test_startup.py`` checks that no
``--help`` imports a heavy library).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

BASELINE = ("import typer, rich",)
HELPS: tuple[tuple[str, ...], ...] = (
    (),
    ("db",),
    ("db", "upgrade"),
    ("accounts", "set-plan"),
    ("jobs", "list"),
    ("dlq", "redrive"),
    ("config", "check"),
    ("stripe", "events", "replay"),
    ("ops", "alarms", "apply"),
    ("dev",),
    ("demo",),
)
_RUN_CLI = "import sys; from counterpromo_cli.main import app; sys.argv[0] = 'counterpromo'; app()"


def _run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(before, after) * 1024


def _median(argv: list[str], runs: int) -> tuple[float, int]:
    results = [_run(argv) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base, base_rss = _median([sys.executable, "-c", BASELINE[0]], args.runs)
    print(f"python -c 'import typer, rich': {base * 1000:.0f} ms (median of {args.runs})")
    worst, peak = 0.0, base_rss
    for path in HELPS:
        took, rss = _median([sys.executable, "-c", _RUN_CLI, *path, "--help"], args.runs)
        worst, peak = max(worst, took / base), max(peak, rss)
        label = " ".join(("counterpromo", *path, "--help"))
        print(f"{label:<48} {took * 1000:6.0f} ms  ratio {took / base:4.2f}")
    print(f"worst --help / import typer, rich = {worst:.2f} (target <= 2)")
    print(f"peak RSS of any child: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
