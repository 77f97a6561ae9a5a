"""Worker benchmark: in-process render time vs. end-to-end jobs per second through moto.

Run ``uv run nox -s bench`` (or ``python services/worker/bench/worker_bench.py --help``).
Needs the worker's dev dependencies: a PostgreSQL (embedded, or the server named by
``COUNTERPROMO_TEST_DATABASE_URL``) and moto's server, both started here.

Importable: ``render_median_seconds()``, ``worker_jobs_per_second()`` and ``run()`` return
the figures for other benchmarks to print alongside their own; ``preview_cost()`` times a
9-page flyer's PDF against its page-1 preview (and Typst's every-page PNG export, the old way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from counterpromo_core import accounts, jobs, promos, work
from counterpromo_core.db import create_db_engine, session_factory
from counterpromo_core.db.models import Job
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import ItemIn, PromoCreate
from counterpromo_storage.clients import aws_clients
from counterpromo_storage.config import load_config
from counterpromo_storage.provision import provision
from counterpromo_storage.queue import JobQueue
from counterpromo_storage.testing.moto_server import LOCAL_CREDENTIALS
from counterpromo_testing.databases import database_server
from counterpromo_testing.ports import free_port, port_in_use
from counterpromo_worker.handlers import default_registry
from counterpromo_worker.rendering import RenderBrand, RenderInput, RenderItem, render_promo
from counterpromo_worker.rendering.preview import first_page_png
from counterpromo_worker.rendering.render import compile_flyer
from counterpromo_worker.runtime.assembly import build_worker
from counterpromo_worker.settings import WorkerSettings
from sqlalchemy import func, select

ITEMS = 12
PREVIEW_ITEMS = 100  # 9 pages of multi-product


@dataclass(frozen=True)
class PreviewCost:
    """Median times for one long flyer: its PDF, the PNG preview of page 1 from that PDF,
    and Typst's PNG export of every page (what the preview used to cost)."""

    pages: int
    pdf_s: float
    preview_s: float
    all_pages_png_s: float

    def report(self) -> str:
        return (
            f"{PREVIEW_ITEMS}-item flyer ({self.pages} pages): PDF {self.pdf_s * 1000:.1f} ms, "
            f"preview of page 1 {self.preview_s * 1000:.1f} ms "
            f"(Typst PNG of every page, as before: {self.all_pages_png_s * 1000:.1f} ms)"
        )


def _median(runs: int, action: Callable[[], object]) -> float:
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def preview_cost(runs: int = 5) -> PreviewCost:
    items = [
        RenderItem(name=f"Bench product {n:03d}", sale_price=Decimal("4.99") + n, unit="each")
        for n in range(1, PREVIEW_ITEMS + 1)
    ]
    data = RenderInput(
        title="Long flyer",
        template="multi-product",
        items=items,
        brand=RenderBrand(),
        currency="USD",
        locale="en-US",
    )
    pdf = compile_flyer(data, "pdf")[0]
    return PreviewCost(
        pages=first_page_png(pdf, ppi=96).page_count,
        pdf_s=_median(runs, lambda: compile_flyer(data, "pdf")),
        preview_s=_median(runs, lambda: first_page_png(pdf, ppi=96)),
        all_pages_png_s=_median(runs, lambda: compile_flyer(data, "png", ppi=96)),
    )


@dataclass(frozen=True)
class BenchResult:
    render_median_s: float
    render_cpu_s: float
    render_runs: int
    jobs: int
    concurrency: int
    worker: WorkerRun
    preview: PreviewCost

    @property
    def jobs_per_second(self) -> float:
        return self.worker.jobs_per_second

    @property
    def ratio(self) -> float:
        """End-to-end jobs/s over in-process renders/s (1.0: the pipeline costs nothing)."""
        return self.jobs_per_second * self.render_median_s

    @property
    def cpu_ratio(self) -> float:
        """The raw render's CPU over the worker's own CPU per job (its threads and its
        render processes; not moto's): 1.0 if running a job cost only its render."""
        own = self.worker.cpu_ms_per_job["worker"] + self.worker.cpu_ms_per_job["render processes"]
        return self.render_cpu_s * 1000 / own

    def report(self) -> str:
        return "\n".join(
            [
                f"render {ITEMS}-item promo (PDF + PNG), in process: median "
                f"{self.render_median_s * 1000:.1f} ms over {self.render_runs} runs "
                f"({1 / self.render_median_s:.1f} renders/s)",
                f"worker end to end through SQS/S3 (moto) and PostgreSQL: {self.jobs} render "
                f"jobs, concurrency {self.concurrency}: {self.jobs_per_second:.2f} jobs/s",
                f"ratio end-to-end jobs/s : in-process renders/s = {self.ratio:.2f}",
                "CPU per job: "
                + ", ".join(f"{k} {v:.1f} ms" for k, v in self.worker.cpu_ms_per_job.items())
                + f"; the raw render {self.render_cpu_s * 1000:.1f} ms CPU",
                f"ratio raw render CPU : the worker's own CPU per job = {self.cpu_ratio:.2f}",
                self.preview.report(),
            ]
        )


def _items() -> list[ItemIn]:
    return [
        ItemIn(
            sku=f"B-{n:03d}",
            name=f"Bench product {n:02d}",
            sale_price=Decimal("4.99") + n,
            rrp=Decimal("7.49") + n,
            unit="each",
            category="Hardware",
            vendor="Bench Co",
        )
        for n in range(1, ITEMS + 1)
    ]


def _bench_render_input() -> RenderInput:
    return RenderInput(
        title="Spring Trade Event",
        subhead="Account holders only",
        cta="Order at the counter",
        template="multi-product",
        items=[
            RenderItem(**item.model_dump(include=set(RenderItem.model_fields))) for item in _items()
        ],
        brand=RenderBrand(),
        currency="USD",
        locale="en-US",
    )


def render_times(runs: int = 15) -> tuple[float, float]:
    """The median wall time and the median CPU time of ``render_promo`` for a 12-item promo
    (one warm-up run first)."""
    data = _bench_render_input()
    render_promo(data, preview_ppi=96)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        render_promo(data, preview_ppi=96)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def render_median_seconds(runs: int = 15) -> float:
    """The median wall time of ``render_promo`` for a 12-item promo (one warm-up run first)."""
    return render_times(runs)[0]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def moto_process() -> Iterator[tuple[str, int]]:
    """moto's server in its own process (in this one it would compete with the worker for
    the GIL, which AWS never does); yields its endpoint and process id."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_in_use(port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("moto's server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass(frozen=True)
class LocalStack:
    database_url: str
    moto_pid: int


@contextmanager
def local_stack() -> Iterator[LocalStack]:
    """A migrated PostgreSQL database and a provisioned moto.

    Sets the environment variables ``load_config()`` reads (as the worker's container would).
    """
    saved = dict(os.environ)
    os.environ.update(LOCAL_CREDENTIALS)
    try:
        with database_server() as server, moto_process() as (endpoint, moto_pid):
            url = server.create_database()
            try:
                env = provision("bench", endpoint_url=endpoint)
                os.environ.update(env.environ() | {"DATABASE_URL": url})
                yield LocalStack(url, moto_pid)
            finally:
                server.drop_database(url)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class WorkerRun:
    jobs_per_second: float
    cpu_ms_per_job: dict[str, float]
    """CPU per job by process: this one (the worker's threads, and the bench's polling), the
    render processes, moto (the stand-in for AWS)."""


def worker_jobs_per_second(
    stack: LocalStack, *, jobs_count: int = 24, concurrency: int = 2
) -> WorkerRun:
    """Queue ``jobs_count`` renders of a 12-item promo, then time the real worker through
    them, in steady state (its render processes already up, as in a deployed worker)."""
    config = load_config()
    engine = create_db_engine(stack.database_url)
    sessions = session_factory(engine)
    clock = SystemClock()
    with sessions.begin() as session:
        account = accounts.create_account(
            session,
            name="Bench Builders",
            owner_email="bench@bench.test",
            currency="USD",
            locale="en-US",
            plan_code="dealer",
        )
        promo = promos.create_promo(
            session, account.id, PromoCreate(title="Bench promo", items=_items()), clock=clock
        )
        job_ids = [
            work.request_render(session, account.id, promo.id, clock=clock).id
            for _ in range(jobs_count)
        ]
    queue = JobQueue(aws_clients(config).sqs, config.jobs_queue_url, config.jobs_dlq_url)
    worker = build_worker(
        config, WorkerSettings(concurrency=concurrency, wait_seconds=1), default_registry()
    )
    thread = threading.Thread(target=worker.run, name="bench-worker", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(worker.renderer.idle_pids()) < concurrency:
            if time.monotonic() > deadline:
                raise RuntimeError("the worker's render processes did not start")
            time.sleep(0.05)
        renderers = worker.renderer.idle_pids()
        cpu_before = {
            "worker": time.process_time(),
            "render processes": sum(_cpu_seconds(pid) for pid in renderers),
            "moto": _cpu_seconds(stack.moto_pid),
        }
        started = time.perf_counter()
        jobs.dispatch_outbox(sessions, queue, limit=jobs_count, clock=clock)
        while _unfinished(sessions, job_ids):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu_after = {
            "worker": time.process_time(),
            "render processes": sum(_cpu_seconds(pid) for pid in renderers),
            "moto": _cpu_seconds(stack.moto_pid),
        }
    finally:
        worker.request_stop()
        thread.join(timeout=60)
        engine.dispose()
    cpu = {k: (cpu_after[k] - cpu_before[k]) * 1000 / jobs_count for k in cpu_before}
    return WorkerRun(jobs_count / elapsed, cpu)


def _unfinished(sessions: object, job_ids: list[uuid.UUID]) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(
            session.scalar(
                select(func.count()).where(
                    Job.id.in_(job_ids), Job.status.in_(("queued", "running"))
                )
            )
            or 0
        )


def run(*, renders: int = 15, jobs_count: int = 24, concurrency: int = 2) -> BenchResult:
    median, cpu = render_times(renders)
    preview = preview_cost()
    with local_stack() as stack:
        measured = worker_jobs_per_second(stack, jobs_count=jobs_count, concurrency=concurrency)
    return BenchResult(median, cpu, renders, jobs_count, concurrency, measured, preview)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--renders", type=int, default=15, help="in-process renders timed")
    parser.add_argument("--jobs", type=int, default=24, help="render jobs sent through the worker")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's job slots")
    args = parser.parse_args(argv)
    print(run(renders=args.renders, jobs_count=args.jobs, concurrency=args.concurrency).report())


if __name__ == "__main__":
    main()
