"""CLI start-up benchmark: ``counterpromo ... --help`` against ``python -c 'import typer, rich'``.

Run ``uv run nox -s bench`` (or ``python tools/cli/bench/startup_bench.py``). Each line is the
median CPU time (user + system) of fresh interpreters, run alternately with the typer+rich
import, and their ratio: CPU time, unlike wall time, hardly changes when other processes
keep the machine busy. Figures only, no pass/fail (``tools/cli/tests/test_startup.py``
checks that no ``--help`` imports a heavy library).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys

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
    """CPU seconds (user + system) and peak RSS (bytes) of one child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, after.ru_maxrss * 1024


def _paired(argv: list[str], baseline: list[str], runs: int) -> tuple[float, float, int]:
    """Median CPU seconds of ``argv`` and of ``baseline``, run alternately, and the peak RSS
    of any child so far (``ru_maxrss`` of children is a running maximum)."""
    took, base, peak = [], [], 0
    for _ in range(runs):
        base.append(_run(baseline)[0])
        seconds, rss = _run(argv)
        took.append(seconds)
        peak = max(peak, rss)
    return statistics.median(took), statistics.median(base), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    baseline = [sys.executable, "-c", BASELINE[0]]
    print(f"CPU time, median of {args.runs} runs alternating with python -c '{BASELINE[0]}'")
    worst, peak = 0.0, 0
    for path in HELPS:
        argv = [sys.executable, "-c", _RUN_CLI, *path, "--help"]
        took, base, rss = _paired(argv, baseline, args.runs)
        worst, peak = max(worst, took / base), max(peak, rss)
        label = " ".join(("counterpromo", *path, "--help"))
        print(
            f"{label:<42} {took * 1000:5.0f} ms  typer+rich {base * 1000:5.0f} ms  "
            f"ratio {took / base:4.2f}"
        )
    print(f"worst --help / import typer, rich = {worst:.2f} (target <= 2)")
    print(f"peak RSS of any child: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
