"""Short full collections in long-running processes: what start-up made is frozen.

A full garbage collection scans every object the collector tracks, and a process that has
imported FastAPI, SQLAlchemy, boto3 and Stripe tracks about 200,000 of them before it serves
anything. Measured in the API under a webhook storm (issue 17): full collections of 130 to
260 ms, each a pause for every request in flight, which made the p99. Almost all of those
objects (modules, classes, the app and its routes, compiled statements) live as long as the
process, so once it is ready they are moved out of the collector's reach (``gc.freeze``):
later full collections scan only what came after, in a few milliseconds.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect what start-up left over, then freeze every object still alive; the number
    frozen. Call once, when the process is ready and before it serves."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


__all__ = ["freeze_startup_heap"]
