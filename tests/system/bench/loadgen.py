"""A load generator in its own process (used when ``wrk`` is not installed).

``N`` threads, each with one keep-alive HTTP/1.1 connection, send requests for
``--seconds`` (after ``--warmup``) and record each latency. Requests come from a JSON
file: ``[{"method", "path", "headers", "body"}]``; with ``--once`` each is sent at most
once (webhook events), else they are cycled. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()
    specs: list[dict[str, Any]] = json.loads(args.requests.read_text())
    source = iter(specs) if args.once else itertools.cycle(specs)
    lock = threading.Lock()
    start = time.monotonic() + args.warmup
    end = start + args.seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        mine: list[float] = []
        codes: Counter[int] = Counter()
        while (now := time.monotonic()) < end:
            with lock:
                spec = next(source, None)
            if spec is None:
                break
            body = spec.get("body")
            sent = time.monotonic()
            try:
                conn.request(spec["method"], spec["path"], body=body, headers=spec["headers"])
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
                status = 0
            if now >= start:
                mine.append(time.monotonic() - sent)
                codes[status] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.warmup + args.seconds + 120)
    elapsed = min(time.monotonic(), end) - start
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": round(elapsed, 3),
                "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
                "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else 0.0,
                "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
            }
        )
    )


if __name__ == "__main__":
    main()
