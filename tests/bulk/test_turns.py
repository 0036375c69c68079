"""The row iterators give the event loop a turn while they hand out a page's rows."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

from iovox_async.bulk import windows


async def test_rows_from_memory_give_the_loop_turns() -> None:
    page = [{"id": str(n)} for n in range(5 * windows.ROWS_PER_TURN)]

    async def batches() -> Any:
        yield page

    async def open_batches() -> Any:
        return batches(), len(page)

    progress: list[tuple[int, int | None]] = []
    turns = 0
    reading = True

    async def count_turns() -> None:
        nonlocal turns
        while reading:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count_turns())
    await asyncio.sleep(0)
    rows = windows._rows(open_batches, progress=lambda *a: progress.append(a))
    async with aclosing(rows):
        got = [row async for row in rows]
    reading = False
    await counter
    assert got == page
    assert turns >= 5, "a page's rows were handed out without a turn of the loop"
    step = windows.ROWS_PER_TURN
    assert progress == [(0, 5 * step), *((n, 5 * step) for n in range(step, 5 * step + 1, step))]
