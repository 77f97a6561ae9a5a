"""``freeze_startup_heap``: what is alive at start-up is left out of later collections."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from counterpromo_core.heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Nothing frozen, and no automatic collection until the test has looked."""
    gc.unfreeze()
    gc.disable()
    yield
    gc.enable()
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.me = self


def _tracked(thing: object) -> bool:
    return any(candidate is thing for candidate in gc.get_objects())


@pytest.mark.usefixtures("unfrozen")
def test_objects_alive_at_start_up_are_frozen_and_later_ones_are_not() -> None:
    started: list[object] = [{"made": "at start-up"}]
    started.append(started)  # a cycle: only the collector could ever free it
    garbage = _Node()  # a cycle already unreachable: collected, never frozen
    gone = weakref.ref(garbage)
    del garbage
    assert _tracked(started)
    assert gone() is not None

    frozen = freeze_startup_heap()

    assert frozen == gc.get_freeze_count() > 0
    assert not _tracked(started)
    assert gone() is None
    later: list[object] = []
    later.append(later)
    assert _tracked(later)
