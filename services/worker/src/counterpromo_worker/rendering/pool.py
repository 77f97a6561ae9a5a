"""Renders in child processes that can be killed: a compile past its time limit is stopped.

A Typst compile runs in native code and cannot be interrupted from a Python thread, so a
hung one would hold its job slot (and, through the heartbeat, its message) forever. The
pool keeps up to ``size`` long-lived render processes (started on first use, ``spawn``ed so
no thread state of the worker is copied); each render is sent to an idle one over a pipe.
When the answer does not come within the timeout, that process is killed and forgotten
(the next render starts a fresh one) and ``RenderTimedOut`` is raised: the caller's thread,
and so its slot, is free at once.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from counterpromo_worker.rendering.models import RenderError, RenderInput, RenderOutput

STARTUP_SECONDS = 60.0
"""How long a new render process may take to import Typst and say it is ready."""

_OK, _RENDER_ERROR, _ERROR = "ok", "render-error", "error"


class RenderTimedOut(Exception):  # noqa: N818 - reads as what happened
    """The render did not finish within its timeout; its process was killed."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"the render did not finish within {timeout:g} s and was stopped")
        self.timeout = timeout


class RenderProcessFailed(Exception):  # noqa: N818 - reads as what happened
    """The render process died or could not start (a transient failure: retry)."""


def _serve(connection: Connection) -> None:
    """The child's loop: render each request sent, answer with the result or the error."""
    from counterpromo_worker.rendering.render import render_promo  # noqa: PLC0415 - child only

    connection.send("ready")
    while True:
        try:
            data, preview_ppi = connection.recv()
        except (EOFError, OSError):
            return
        try:
            connection.send((_OK, render_promo(data, preview_ppi=preview_ppi)))
        except RenderError as error:
            connection.send((_RENDER_ERROR, error.message))
        except Exception as error:  # noqa: BLE001 - reported to the parent as a failure
            connection.send((_ERROR, f"{type(error).__name__}: {error}"))


class _RenderProcess:
    def __init__(self, context: multiprocessing.context.SpawnContext) -> None:
        parent, child = context.Pipe()
        self.connection = parent
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child,), name="counterpromo-render", daemon=True
        )
        self.process.start()
        child.close()
        try:
            ready = parent.poll(STARTUP_SECONDS) and parent.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RenderProcessFailed("the render process did not start")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def render(self, data: RenderInput, preview_ppi: int, timeout: float) -> RenderOutput:
        try:
            self.connection.send((data, preview_ppi))
            if not self.connection.poll(max(timeout, 0.0)):
                raise RenderTimedOut(timeout)
            kind, value = self.connection.recv()
        except (EOFError, OSError) as error:
            raise RenderProcessFailed(f"the render process died: {error}") from error
        return _answer(kind, value)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=10)
        self.connection.close()


def _answer(kind: str, value: Any) -> RenderOutput:
    if kind == _OK and isinstance(value, RenderOutput):
        return value
    if kind == _RENDER_ERROR:
        raise RenderError(str(value))
    raise RenderProcessFailed(f"the render failed: {value}")


class RenderPool:
    """At most ``size`` renders at once, each in its own killable process. Thread-safe."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a render pool needs at least one process")
        self._context = multiprocessing.get_context("spawn")
        self._size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.LifoQueue[_RenderProcess] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False

    def render(self, data: RenderInput, *, preview_ppi: int, timeout: float) -> RenderOutput:
        """``render_promo(data)`` in a child process; ``RenderTimedOut`` after ``timeout`` s.

        ``RenderError`` (bad input) comes back as it was raised in the child; a child that
        dies or cannot start is a ``RenderProcessFailed``.
        """
        with self._slots:
            process = self._take()
            try:
                output = process.render(data, preview_ppi, timeout)
            except (RenderTimedOut, RenderProcessFailed):
                process.kill()
                raise
            except BaseException:
                self._give_back(process)
                raise
            self._give_back(process)
            return output

    def warm(self) -> int:
        """Start the pool's processes now, side by side, so the first renders do not pay
        for starting Typst; the number started. A process that cannot start is left to
        the first render that needs it."""
        missing = self._size - self._idle.qsize()
        if missing <= 0:
            return 0
        with ThreadPoolExecutor(missing, thread_name_prefix="render-warm") as starting:
            futures = [starting.submit(_RenderProcess, self._context) for _ in range(missing)]
        started = 0
        for future in futures:
            try:
                process = future.result()
            except RenderProcessFailed:
                continue
            self._give_back(process)
            started += 1
        return started

    def idle_pids(self) -> list[int]:
        """The process ids of the idle render processes (for tests and diagnostics)."""
        with self._idle.mutex:
            return [p.pid for p in self._idle.queue if p.pid is not None]

    def close(self) -> None:
        """Kill every idle render process; later renders are refused."""
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return

    def _take(self) -> _RenderProcess:
        with self._lock:
            if self._closed:
                raise RenderProcessFailed("the render pool is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return _RenderProcess(self._context)

    def _give_back(self, process: _RenderProcess) -> None:
        with self._lock:
            closed = self._closed
        if closed or not process.process.is_alive():
            process.kill()
        else:
            self._idle.put(process)
