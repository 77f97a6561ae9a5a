"""A fixed number of job slots, each job on its own daemon thread.

Why threads: a job spends its time waiting on S3, SQS and PostgreSQL (network
I/O releases the GIL) or inside Typst's native compiler. We measured that
``typst.compile`` releases the GIL: a pure-Python thread keeps about 70% of its
speed while another thread compiles, and Typst already spreads one compile over
several cores itself. Processes would cost a database pool and boto3 clients
per process for no gain. Scale further by running more worker tasks.

Why not ``concurrent.futures``: its threads are joined when the interpreter
exits, so a job that outlives the shutdown grace period would hold the process
past ECS's SIGKILL. Daemon threads let us hand the message back and exit; the
job's open transaction is rolled back by PostgreSQL when the connection drops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class JobSlots:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one slot")
        self.size = size
        self._busy = 0
        self._changed = threading.Condition()

    def free(self) -> int:
        with self._changed:
            return self.size - self._busy

    def busy(self) -> int:
        with self._changed:
            return self._busy

    def wait_for_free(self, timeout: float) -> bool:
        """Wait until a slot is free, at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy < self.size, timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs, at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, max(timeout, 0))

    def start(self, name: str, work: Callable[[], object]) -> None:
        """Run ``work`` on a new thread in a free slot (the caller checked there is one)."""
        with self._changed:
            if self._busy >= self.size:
                raise RuntimeError("no free job slot")
            self._busy += 1

        def run() -> None:
            try:
                work()
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()

        threading.Thread(target=run, name=name, daemon=True).start()
