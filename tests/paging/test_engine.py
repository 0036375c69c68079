"""The paging engine on its own: order, bounded memory, failures and cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import weakref

import pytest

from iovox_async._paging import page_count, paged_rows, pages_ahead


class Page(dict[str, object]):
    """A page that can be watched with a weak reference."""

    __hash__ = object.__hash__  # type: ignore[assignment]


class FakeList:
    """``rows`` rows in pages of ``size``; watches live pages and requests in flight."""

    def __init__(self, rows: int, size: int, fail: int | None = None, delay: float = 0) -> None:
        self.rows, self.size, self.fail, self.delay = rows, size, fail, delay
        self.alive: weakref.WeakSet[Page] = weakref.WeakSet()
        self.running = self.cancelled = 0

    async def fetch(self, number: int) -> Page:
        self.running += 1
        try:
            # Pages finish out of order; with a delay, all but the first stay in flight.
            await asyncio.sleep(0.001 * (number % 3) + (self.delay if number > 1 else 0))
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        if number == self.fail:
            raise RuntimeError(f"page {number} failed")
        start = (number - 1) * self.size
        page = Page(
            total_results=self.rows,
            total_pages=-(-self.rows // self.size),
            results={"result": list(range(start, min(start + self.size, self.rows)))},
        )
        self.alive.add(page)
        return page


def rows_of(page: Page) -> list[int]:
    results = page["results"]
    assert isinstance(results, dict)
    return list(results["result"])


@pytest.mark.parametrize("prefetch", [0, 1, 3])
async def test_pages_in_order_with_at_most_prefetch_plus_one_held(prefetch: int) -> None:
    fake = FakeList(rows=95, size=10)
    held: list[int] = []
    numbers: list[int] = []
    first = await fake.fetch(1)
    pages = pages_ahead(fake.fetch, first, page_count(first, 10), prefetch)
    del first
    async with contextlib.aclosing(pages):
        async for number, page in pages:
            numbers.append(number)
            del page
            await asyncio.sleep(0.005)  # a slow consumer: every page ahead has arrived
            held.append(len(fake.alive))
    assert numbers == list(range(1, 11))
    assert max(held) <= prefetch + 1
    if prefetch:
        assert max(held) == prefetch + 1  # and it does fetch ahead


async def test_rows_come_in_order_and_a_failed_page_raises_after_the_ones_before() -> None:
    fake = FakeList(rows=95, size=10)
    rows = [row async for row in paged_rows(fake.fetch, rows_of, page_size=10, prefetch=4)]
    assert rows == list(range(95))
    broken = FakeList(rows=95, size=10, fail=5)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="page 5 failed"):
        async for row in paged_rows(broken.fetch, rows_of, page_size=10, prefetch=4):
            seen.append(row)
    assert seen == list(range(40))
    assert broken.running == 0  # the pages fetched ahead of the failure were cancelled


async def test_closing_early_cancels_and_awaits_the_pages_in_flight() -> None:
    fake = FakeList(rows=500, size=10, delay=10)
    rows = paged_rows(fake.fetch, rows_of, page_size=10, prefetch=5)
    async with contextlib.aclosing(rows):
        async for _ in rows:
            await asyncio.sleep(0.01)
            break
        assert fake.running == 5
    assert fake.running == 0 and fake.cancelled == 5


def test_page_count_trusts_the_larger_of_pages_and_totals() -> None:
    assert page_count({"total_pages": 2, "total_results": 35}, 10) == 4
    assert page_count({"total_pages": "3"}, 10) == 3
    assert page_count({}, 10) == 1
