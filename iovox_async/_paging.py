"""The paging engine: pages of a list fetched ahead concurrently, yielded in order.

Every paged method (``page``/``limit`` in the query, ``current_page``/``total_pages``/
``total_results`` in the response) has a generated ``iter_`` twin built on
:func:`iter_rows`; the exact CDR window reader (:mod:`iovox_async.bulk.windows`)
drives :func:`pages_ahead` directly and keeps its own exactness checks around it.

Memory stays bounded: besides the page being yielded, at most ``prefetch`` pages are
requested or held, so ``prefetch + 1`` pages at most. Closing the iterator (leaving an
``async with contextlib.aclosing(...)`` block, or an exception in the loop) cancels
the requests still in flight and waits for them to end: no request outlives it.
Under trio an async generator cannot own tasks across its yields, so there the pages
are read one after another.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import ValidationError
from ._params import build_query

if TYPE_CHECKING:
    from ._client import AsyncIovox
    from ._spec import Endpoint

P = TypeVar("P")
"""A decoded page."""
Page = TypeVar("Page", bound=Mapping[str, object])
"""A decoded page with its totals."""
T = TypeVar("T")
"""One row of a page."""

DEFAULT_PAGE_SIZE = 1000
"""Rows per page of an ``iter_`` twin (lowered to the method's documented maximum)."""
DEFAULT_PREFETCH = 2
"""Pages an ``iter_`` twin fetches ahead of the one being yielded."""


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def page_total(page: Mapping[str, object]) -> int | None:
    """The page's ``total_results``: how many rows the query matched when it ran."""
    return _as_int(page.get("total_results"))


def page_count(page: Mapping[str, object], page_size: int) -> int:
    """Pages to read: the larger of the stated page count and the one the totals imply."""
    pages = _as_int(page.get("total_pages")) or 1
    results = page_total(page)
    if results is not None:
        pages = max(pages, math.ceil(results / page_size))
    return max(pages, 1)


async def pages_ahead(
    fetch: Callable[[int], Awaitable[P]], first: P, last: int, prefetch: int
) -> AsyncGenerator[tuple[int, P], None]:
    """``(number, page)``: ``first`` as page 1, then pages 2..``last`` in order, with up
    to ``prefetch`` of them requested ahead (``fetch(number)`` gets one page).

    A page that fails raises here, in order, once the pages before it were yielded;
    the pages requested ahead of it are then cancelled.
    """
    ahead = prefetch > 0 and _on_asyncio()
    pending: deque[asyncio.Future[P]] = deque()
    next_page = 2

    def top_up() -> None:
        nonlocal next_page
        while ahead and next_page <= last and len(pending) < prefetch:
            pending.append(asyncio.ensure_future(fetch(next_page)))
            next_page += 1

    try:
        top_up()
        page: P | None = first
        del first
        number = 1
        while page is not None:
            yield number, page
            page = None
            if pending:
                page = await pending.popleft()
                number += 1
                top_up()
            elif not ahead and number < last:
                number += 1
                page = await fetch(number)
    finally:
        for task in pending:
            task.cancel()
        if pending:  # no request outlives the iterator
            await asyncio.gather(*pending, return_exceptions=True)


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio
        return False
    return True


async def paged_rows(
    fetch: Callable[[int], Awaitable[Page]],
    rows: Callable[[Page], list[T]],
    *,
    page_size: int,
    prefetch: int,
) -> AsyncGenerator[T, None]:
    """The rows of pages 1..N in order, N read from the first page's totals."""
    first = await fetch(1)
    pages = pages_ahead(fetch, first, page_count(first, page_size), prefetch)
    del first
    async with aclosing(pages):
        async for _, page in pages:
            for row in rows(page):
                yield row


def iter_rows(
    client: AsyncIovox,
    endpoint: Endpoint[Page],
    query: Mapping[str, object],
    rows: Callable[[Page], list[T]],
    *,
    page_size: int | None,
    prefetch: int,
    timeout: float | None = None,
    max_retries: int | None = None,
) -> AsyncGenerator[T, None]:
    """Every row of a paged method, page after page (what the ``iter_`` twins return).

    The arguments are checked here, before anything is sent: ``query`` as the method
    itself checks it, ``page_size`` against the method's ``limit`` range. Without a
    ``page_size``, pages hold :data:`DEFAULT_PAGE_SIZE` rows, or the maximum when lower.
    """
    method = endpoint.method
    limit = method.param("limit")
    low = limit.minimum if limit is not None and limit.minimum is not None else 1
    high = limit.maximum if limit is not None and limit.maximum is not None else None
    if page_size is None:
        page_size = DEFAULT_PAGE_SIZE if high is None else min(DEFAULT_PAGE_SIZE, high)
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or page_size < low
        or (high is not None and page_size > high)
    ):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(f"{method.name}: page_size must be an integer {span}")
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
        raise ValidationError(f"{method.name}: prefetch must be an integer of at least 0")
    build_query(method, {**query, "page": 1, "limit": page_size})

    async def fetch(number: int) -> Page:
        return await client._invoke(
            endpoint,
            {**query, "page": number, "limit": page_size},
            None,
            timeout=timeout,
            max_retries=max_retries,
        )

    return paged_rows(fetch, rows, page_size=page_size, prefetch=prefetch)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PREFETCH",
    "iter_rows",
    "page_count",
    "page_total",
    "paged_rows",
    "pages_ahead",
]
