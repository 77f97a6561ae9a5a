"""Stop long-running commands cleanly on Ctrl-C (SIGINT) or SIGTERM."""

import signal
import threading
from types import FrameType


def stop_event() -> threading.Event:
    """An event set by SIGINT or SIGTERM (main thread only; elsewhere, never set by a signal)."""
    stop = threading.Event()

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)
    return stop
