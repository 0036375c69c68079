"""One window's pages: every id once, whatever the pages repeat (no server needed)."""

from __future__ import annotations

from typing import Any

from iovox_async.bulk.cdrs import TYPED_ROWS, PageRoute
from iovox_async.bulk.windows import Window, WindowPlan, window_batches

PLAN = WindowPlan({}, "cs_ASC", ("id",), ())
WINDOW = Window(0, "2026-01-01 00:00:00", "2026-01-01 23:59:59", 5)


def _page(ids: list[str], total: int) -> dict[str, Any]:
    return {
        "total_results": total,
        "total_pages": 3,
        "results": {"result": [{"id": i} for i in ids]},
    }


async def _read(pages: dict[int, list[str]]) -> list[str]:
    total = len({i for ids in pages.values() for i in ids})

    async def fetch_page(client: object, *, page: int, **query: object) -> dict[str, Any]:
        return _page(pages.get(page, []), total)

    route = PageRoute(fetch_page, TYPED_ROWS.rows, TYPED_ROWS.ids)
    batches = window_batches(object(), PLAN, WINDOW, page_size=2, prefetch=0, route=route)  # type: ignore[arg-type]
    return [row["id"] async for batch in batches for row in batch]


async def test_rows_repeated_across_pages_are_yielded_once() -> None:
    # Page 2 repeats the last row of page 1, as a shift under offset paging does.
    read = await _read({1: ["1", "2"], 2: ["2", "3"], 3: ["4", "5"]})
    assert read == ["1", "2", "3", "4", "5"]


async def test_an_id_repeated_within_one_page_is_yielded_once() -> None:
    read = await _read({1: ["1", "1"], 2: ["2", "3"], 3: ["3", "4", "4", "5"]})
    assert read == ["1", "2", "3", "4", "5"]
