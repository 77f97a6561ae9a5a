"""Renders in killable child processes: a compile past its timeout is stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal

import pytest
from counterpromo_worker.rendering import RenderBrand, RenderError, RenderInput, RenderItem
from counterpromo_worker.rendering.pool import RenderPool, RenderTimedOut


def _promo(items: int) -> RenderInput:
    return RenderInput(
        title="Pool test",
        brand=RenderBrand(),
        template="multi-product",
        currency="GBP",
        locale="en-GB",
        items=[
            RenderItem(name=f"Spirit level {n}", sku=f"SL-{n:03d}", sale_price=Decimal("9.99") + n)
            for n in range(1, items + 1)
        ],
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def pool() -> Iterator[RenderPool]:
    renderer = RenderPool(1)
    yield renderer
    renderer.close()


def test_a_render_runs_in_a_reused_child_process(pool: RenderPool) -> None:
    first = pool.render(_promo(3), preview_ppi=36, timeout=120)
    assert first.pdf.startswith(b"%PDF")
    [pid] = pool.idle_pids()
    assert pid != os.getpid()
    pool.render(_promo(2), preview_ppi=36, timeout=120)
    assert pool.idle_pids() == [pid]


def test_a_render_past_its_timeout_is_stopped_and_its_process_killed(pool: RenderPool) -> None:
    pool.render(_promo(1), preview_ppi=36, timeout=120)  # the process is up
    [pid] = pool.idle_pids()
    # 200 items (17 pages) take far longer than a millisecond to lay out.
    with pytest.raises(RenderTimedOut, match=r"did not finish within 0\.001 s"):
        pool.render(_promo(200), preview_ppi=36, timeout=0.001)
    assert _gone(pid)
    assert pool.idle_pids() == []
    # The next render gets a fresh process.
    assert pool.render(_promo(1), preview_ppi=36, timeout=120).page_count == 1
    assert pool.idle_pids() != [pid]


def test_bad_input_comes_back_as_a_render_error_and_the_process_stays(pool: RenderPool) -> None:
    pool.render(_promo(1), preview_ppi=36, timeout=120)
    [pid] = pool.idle_pids()
    with pytest.raises(RenderError, match="preview_ppi"):
        pool.render(_promo(1), preview_ppi=0, timeout=120)
    assert pool.idle_pids() == [pid]


def test_a_closed_pool_kills_its_processes() -> None:
    renderer = RenderPool(1)
    renderer.render(_promo(1), preview_ppi=36, timeout=120)
    [pid] = renderer.idle_pids()
    renderer.close()
    assert _gone(pid)


def test_warming_starts_every_process_once_and_renders_use_them() -> None:
    renderer = RenderPool(2)
    try:
        assert renderer.warm() == 2
        warmed = sorted(renderer.idle_pids())
        assert len(warmed) == 2
        assert renderer.warm() == 0  # already full: nothing more started
        renderer.render(_promo(1), preview_ppi=36, timeout=120)
        assert sorted(renderer.idle_pids()) == warmed
    finally:
        renderer.close()
    assert all(_gone(pid) for pid in warmed)
