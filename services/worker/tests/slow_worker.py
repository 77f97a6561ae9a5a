"""The production worker, with render jobs that take ``SLOW_JOB_SECONDS`` (shutdown tests).

Run as a script: ``python slow_worker.py [counterpromo-worker options]``.
"""

from __future__ import annotations

import os
import sys
import time

from counterpromo_worker.handlers import default_registry
from counterpromo_worker.main import main
from counterpromo_worker.runtime.context import JobContext


def slow_render(ctx: JobContext) -> None:
    seconds = float(os.environ["SLOW_JOB_SECONDS"])
    time.sleep(seconds)
    ctx.finish(lambda _session: {"slept": seconds})


if __name__ == "__main__":
    registry = default_registry()
    registry.register("render_promo", slow_render)
    sys.exit(main(sys.argv[1:], registry=registry))
