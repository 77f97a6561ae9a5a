"""The system benchmark (``uv run nox -s bench``): figures, no pass/fail.

One API process (one uvicorn worker) and one worker on the system-test stack; the API and
its baseline are timed in alternating rounds (medians reported). Prints the
table and writes ``bench-results.json`` in the current directory.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from counterpromo_billing.signatures import verify_signature
from counterpromo_core import promos
from counterpromo_core.db.models import StripeEvent
from counterpromo_core.ports import SystemClock
from counterpromo_core.schemas import ItemIn, PromoCreate
from counterpromo_testing import free_port
from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from harness.processes import ManagedProcess  # noqa: E402
from harness.records import all_finished  # noqa: E402
from harness.stack import StackOptions, SystemStack  # noqa: E402
from harness.tenants import Tenant, create_tenant, promo_body  # noqa: E402
from harness.waiting import port_open, wait_until  # noqa: E402

CONNECTIONS = 16
ROUNDS = 3  # API and baseline alternate, so a machine that slows down mid-run skews neither
GET_SECONDS = 4.0  # per round and side
POST_SECONDS = 3.0
WEBHOOK_SECONDS = 5.0
WEBHOOK_EVENTS = 3000
STORM_EVENTS = 500
STORM_CUSTOMERS = 50
STRIPE_LATENCY = 0.5  # seconds per Stripe call during the storm
STORM_SECONDS = 6.0
RENDER_JOBS = 24
WORKER_BENCH = HERE.parents[2] / "services/worker/bench/worker_bench.py"


@dataclass
class RssSampler:
    """Peak resident memory of some processes (with their children), sampled every 0.2 s."""

    processes: dict[str, ManagedProcess]
    peaks: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, process in self.processes.items():
                self.peaks[name] = max(self.peaks.get(name, 0), process.rss_bytes())

    def stop(self) -> dict[str, int]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.peaks


def loadgen(
    port: int,
    specs: list[dict[str, Any]],
    *,
    seconds: float,
    once: bool = False,
    warmup: float = 1.0,
    connections: int = CONNECTIONS,
) -> Any:
    """Run the load generator in its own process; its JSON figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(specs, handle)
    argv = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--port",
        str(port),
        "--requests",
        handle.name,
        "--connections",
        str(connections),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        *(["--once"] if once else []),
    ]
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 180, check=True
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return json.loads(out.stdout)


@dataclass(frozen=True)
class Compared:
    """The API against its baseline over ``ROUNDS`` alternating rounds: the medians of the
    rounds' figures, and the ratio of each round (API rps / baseline rps)."""

    api: dict[str, Any]
    baseline: dict[str, Any]
    ratios: list[float]

    @property
    def ratio(self) -> float:
        return round(statistics.median(self.ratios), 3)


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for run in runs:
        for code, count in run["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "requests": sum(run["requests"] for run in runs),
        **{k: statistics.median(run[k] for run in runs) for k in ("rps", "p50_ms", "p99_ms")},
        "statuses": statuses,
    }


def compare(api_port: int, base_port: int, specs: list[dict[str, Any]], seconds: float) -> Compared:
    api_runs, base_runs = [], []
    for _ in range(ROUNDS):
        api_runs.append(loadgen(api_port, specs, seconds=seconds))
        base_runs.append(loadgen(base_port, specs, seconds=seconds))
    ratios = [round(a["rps"] / b["rps"], 3) for a, b in zip(api_runs, base_runs, strict=True)]
    return Compared(_medians(api_runs), _medians(base_runs), ratios)


def seed_promos(stack: SystemStack, tenant: Tenant, count: int) -> None:
    clock = SystemClock()
    items = [ItemIn(sku=f"S-{n}", name=f"Seed item {n}") for n in range(3)]
    with stack.sessions.begin() as session:
        for n in range(count):
            data = PromoCreate(title=f"Seeded promo {n} [{tenant.tag}]", items=items)
            promos.create_promo(session, tenant.account_id, data, clock=clock)


def start_baseline(stack: SystemStack) -> tuple[ManagedProcess, int]:
    port = free_port()
    process = ManagedProcess(
        "baseline",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(HERE),
            "baseline_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=stack.service_environ(),
        log_path=stack.logs / "baseline.log",
    ).start()
    wait_until(lambda: port_open(port), timeout=60, what="the baseline app")
    return process, port


def webhook_specs(stack: SystemStack, count: int, customers: int = 20) -> list[dict[str, Any]]:
    """Signed ``customer.subscription.updated`` events for ``customers`` subscribed accounts."""
    fake = stack.stripe
    price = stack.env.plan_prices["pro"]
    subs = []
    for _ in range(customers):
        account = create_tenant(stack.sessions, plan="free").account_id
        customer = fake.create_customer(account_id=str(account))
        subs.append(fake.create_subscription(customer["id"], price)["id"])
    specs = []
    for n in range(count):
        event = fake.subscription_event("customer.subscription.updated", subs[n % len(subs)])
        payload, signature = fake.sign(json.dumps(event).encode())
        headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
        specs.append(
            {
                "method": "POST",
                "path": "/webhooks/stripe",
                "headers": headers,
                "body": payload.decode(),
            }
        )
    return specs


def unapplied_events(stack: SystemStack) -> int:
    with stack.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(StripeEvent)
                .where(StripeEvent.processed_at.is_(None))
            )
            or 0
        )


def webhook_storm(stack: SystemStack, port: int, get: list[dict[str, Any]]) -> dict[str, Any]:
    """Users' GET p99 alone, then during a storm of signed events with Stripe answering in
    ``STRIPE_LATENCY`` s; the storm's own latency and how long applying all of it took."""
    # Whatever earlier benches stored is applied first (Stripe still fast).
    wait_until(lambda: unapplied_events(stack) == 0, timeout=300, what="earlier events applied")
    storm = webhook_specs(stack, STORM_EVENTS, customers=STORM_CUSTOMERS)
    stack.stripe.latency = STRIPE_LATENCY
    try:
        quiet = loadgen(port, get, seconds=STORM_SECONDS, connections=4)
        during: dict[str, Any] = {}

        def users() -> None:
            during.update(loadgen(port, get, seconds=STORM_SECONDS, connections=4, warmup=0))

        thread = threading.Thread(target=users)
        started = time.perf_counter()
        thread.start()
        hooks = loadgen(port, storm, seconds=STORM_SECONDS, once=True, warmup=0, connections=8)
        thread.join()
        wait_until(lambda: unapplied_events(stack) == 0, timeout=600, interval=0.1)
        applied_s = time.perf_counter() - started
    finally:
        stack.stripe.latency = 0.0
    return {
        "stripe_latency_s": STRIPE_LATENCY,
        "events": STORM_EVENTS,
        "customers": STORM_CUSTOMERS,
        "webhooks": hooks,
        "all_applied_after_s": round(applied_s, 1),
        "users_get_quiet": quiet,
        "users_get_during_storm": during,
        "users_p99_ratio_storm_to_quiet": round(during["p99_ms"] / quiet["p99_ms"], 2),
    }


def verifications_per_second(specs: list[dict[str, Any]], secret: str) -> float:
    started = time.perf_counter()
    for spec in specs:
        verify_signature(spec["body"].encode(), spec["headers"]["Stripe-Signature"], [secret])
    return len(specs) / (time.perf_counter() - started)


def raw_render_seconds() -> tuple[float, str]:
    """The worker engineer's in-process render loop (12 items), else our own equivalent."""
    spec = importlib.util.spec_from_file_location("worker_bench", WORKER_BENCH)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {WORKER_BENCH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    median: float = module.render_median_seconds(15)
    return median, f"{WORKER_BENCH.relative_to(HERE.parents[2])}:render_median_seconds"


def worker_end_to_end(stack: SystemStack, api_url: str) -> float:
    """Render jobs/s: requested over HTTP, outbox -> SQS -> worker process -> S3 -> database."""
    tenant = create_tenant(stack.sessions, plan="dealer")
    with httpx.Client(base_url=api_url, timeout=60, headers=tenant.headers) as client:
        body = promo_body(tenant, items=12)
        promo_id = client.post("/v1/promos", json=body).raise_for_status().json()["id"]
        started = time.perf_counter()
        job_ids = [
            uuid.UUID(client.post(f"/v1/promos/{promo_id}/renders", json={}).json()["id"])
            for _ in range(RENDER_JOBS)
        ]
    wait_until(lambda: all_finished(stack.sessions, job_ids), timeout=300, interval=0.05)
    return RENDER_JOBS / (time.perf_counter() - started)


def _rounds(ratios: list[float]) -> str:
    return "rounds " + ", ".join(f"{ratio:.2f}" for ratio in ratios)


def _mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def run() -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="counterpromo-bench-"))
    stack = SystemStack(workdir, StackOptions(apis=1, workers=1))
    baseline: ManagedProcess | None = None
    median, render_source = raw_render_seconds()  # before anything else runs
    try:
        stack.start()
        api, worker = stack.apis[0], stack.workers[0]
        sampler = RssSampler({"api": api.process, "worker": worker.process}).start()

        reader = create_tenant(stack.sessions, plan="dealer")
        seed_promos(stack, reader, 200)
        baseline, baseline_port = start_baseline(stack)
        get = [{"method": "GET", "path": "/v1/promos?limit=20", "headers": reader.headers}]
        for port in (api.port, baseline_port):  # both answer the same page before we time them
            page = httpx.get(f"http://127.0.0.1:{port}/v1/promos?limit=20", headers=reader.headers)
            page.raise_for_status()
            if len(page.json()["items"]) != 20:
                raise RuntimeError(f"port {port} did not answer a page of 20: {page.text}")
        get_compared = compare(api.port, baseline_port, get, GET_SECONDS)

        writer = create_tenant(stack.sessions, plan="dealer")
        body = json.dumps(promo_body(writer, items=3))
        post_headers = writer.headers | {"Content-Type": "application/json"}
        post = [{"method": "POST", "path": "/v1/promos", "headers": post_headers, "body": body}]
        post_compared = compare(api.port, baseline_port, post, POST_SECONDS)

        hooks = webhook_specs(stack, WEBHOOK_EVENTS)
        api_hooks = loadgen(api.port, hooks, seconds=WEBHOOK_SECONDS, once=True)
        verify_rate = verifications_per_second(hooks, stack.stripe.webhook_secret)
        storm = webhook_storm(stack, api.port, get)

        e2e = worker_end_to_end(stack, api.url)
        peaks = sampler.stop()
        return {
            "load_generator": "python (tests/system/bench/loadgen.py, separate process)"
            if shutil.which("wrk") is None
            else "python (wrk present but not used)",
            "connections": CONNECTIONS,
            "rounds": ROUNDS,
            "get_promos": {"api": get_compared.api, "baseline": get_compared.baseline},
            "get_promos_ratio_api_to_baseline": get_compared.ratio,
            "get_promos_ratio_rounds": get_compared.ratios,
            "post_promos": post_compared.api,
            "post_promos_baseline": post_compared.baseline,
            "post_promos_ratio_api_to_baseline": post_compared.ratio,
            "post_promos_ratio_rounds": post_compared.ratios,
            "webhooks": api_hooks,
            "signature_verifications_per_s": round(verify_rate, 1),
            "webhooks_ratio_to_verification": round(api_hooks["rps"] / verify_rate, 5),
            "webhook_storm": storm,
            "worker_end_to_end_renders_per_s": round(e2e, 2),
            "raw_render_per_s": round(1 / median, 2),
            "raw_render_source": render_source,
            "worker_ratio_to_raw": round(e2e * median, 3),
            "api_ready_s": round(api.ready_seconds, 2),
            "worker_ready_s": round(worker.ready_seconds, 2),
            "peak_rss_bytes": peaks,
        }
    finally:
        if baseline is not None:
            baseline.stop(grace=5)
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def table(r: dict[str, Any]) -> str:
    g, b = r["get_promos"]["api"], r["get_promos"]["baseline"]
    peaks = r["peak_rss_bytes"]
    st = r["webhook_storm"]
    rows = [
        (
            "GET /v1/promos (200 promos, 20/page), API",
            f"{g['rps']:.0f} req/s",
            f"p50 {g['p50_ms']:.1f} ms",
            f"p99 {g['p99_ms']:.1f} ms",
        ),
        (
            "GET same SQL, bare Starlette + psycopg",
            f"{b['rps']:.0f} req/s",
            f"p50 {b['p50_ms']:.1f} ms",
            f"p99 {b['p99_ms']:.1f} ms",
        ),
        (
            "  ratio API / baseline (median of rounds)",
            f"{r['get_promos_ratio_api_to_baseline']:.2f}",
            _rounds(r["get_promos_ratio_rounds"]),
            "",
        ),
        (
            "POST /v1/promos (3 items), API",
            f"{r['post_promos']['rps']:.0f} req/s",
            f"p50 {r['post_promos']['p50_ms']:.1f} ms",
            f"p99 {r['post_promos']['p99_ms']:.1f} ms",
        ),
        (
            "POST same SQL, bare Starlette + psycopg",
            f"{r['post_promos_baseline']['rps']:.0f} req/s",
            f"p50 {r['post_promos_baseline']['p50_ms']:.1f} ms",
            f"p99 {r['post_promos_baseline']['p99_ms']:.1f} ms",
        ),
        (
            "  ratio API / baseline (median of rounds)",
            f"{r['post_promos_ratio_api_to_baseline']:.2f}",
            _rounds(r["post_promos_ratio_rounds"]),
            "",
        ),
        (
            "POST /webhooks/stripe",
            f"{r['webhooks']['rps']:.0f} events/s",
            f"p50 {r['webhooks']['p50_ms']:.1f} ms",
            f"p99 {r['webhooks']['p99_ms']:.1f} ms",
        ),
        ("  signature verification alone", f"{r['signature_verifications_per_s']:.0f} /s", "", ""),
        ("  ratio webhooks / verification", f"{r['webhooks_ratio_to_verification']:.4f}", "", ""),
        (
            f"storm: {st['events']} events, {st['customers']} customers, Stripe "
            f"{st['stripe_latency_s'] * 1000:.0f} ms/call",
            f"{st['webhooks']['rps']:.0f} events/s",
            f"p50 {st['webhooks']['p50_ms']:.1f} ms",
            f"p99 {st['webhooks']['p99_ms']:.1f} ms",
        ),
        ("  all applied after (from storm start)", f"{st['all_applied_after_s']:.1f} s", "", ""),
        (
            "  users' GET /v1/promos, quiet (4 conns)",
            f"{st['users_get_quiet']['rps']:.0f} req/s",
            f"p50 {st['users_get_quiet']['p50_ms']:.1f} ms",
            f"p99 {st['users_get_quiet']['p99_ms']:.1f} ms",
        ),
        (
            "  users' GET /v1/promos, during storm",
            f"{st['users_get_during_storm']['rps']:.0f} req/s",
            f"p50 {st['users_get_during_storm']['p50_ms']:.1f} ms",
            f"p99 {st['users_get_during_storm']['p99_ms']:.1f} ms",
        ),
        ("  ratio users' p99 storm / quiet", f"{st['users_p99_ratio_storm_to_quiet']:.2f}", "", ""),
        (
            "worker end to end (HTTP->SQS->worker->S3)",
            f"{r['worker_end_to_end_renders_per_s']:.2f} renders/s",
            "",
            "",
        ),
        ("  raw render loop in process", f"{r['raw_render_per_s']:.2f} renders/s", "", ""),
        ("  ratio end to end / raw", f"{r['worker_ratio_to_raw']:.2f}", "", ""),
        (
            "time to ready: API / worker",
            f"{r['api_ready_s']:.1f} s / {r['worker_ready_s']:.1f} s",
            "",
            "",
        ),
        (
            "peak RSS under load: API / worker",
            f"{_mib(peaks.get('api', 0))} / {_mib(peaks.get('worker', 0))}",
            "",
            "",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    lines = [
        f"Counter Promo system bench: {r['connections']} connections, one uvicorn worker, "
        f"API and baseline alternating over {r['rounds']} rounds; "
        f"load generator: {r['load_generator']}",
        "-" * (width + 50),
    ]
    lines += [f"{a:<{width}}  {b:>18}  {c:>14}  {d:>14}".rstrip() for a, b, c, d in rows]
    statuses = {
        k: r[k]["statuses"] for k in ("post_promos", "post_promos_baseline", "webhooks")
    } | {f"get_{k}": v["statuses"] for k, v in r["get_promos"].items()}
    lines.append(f"HTTP statuses seen: {statuses}")
    return "\n".join(lines)


def main() -> None:
    results = run()
    Path("bench-results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print("written: bench-results.json")


if __name__ == "__main__":
    main()
