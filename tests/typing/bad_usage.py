"""Must FAIL mypy --strict (test_types.py checks that it does): typed means checked."""

from __future__ import annotations

from iovox_async import AsyncIovox


async def wrong(iovox: AsyncIovox) -> None:
    page = await iovox.calls.get_call_data()
    total: str = page["total_results"]  # an int, not text
    page["results"]["result"][0]["call_strat"]  # misspelt key
    total_length = len(total)
    del total_length
    async for node in iovox.nodes.iter_nodes(page=2):  # the iterator sets the page
        node["node_nmae"]  # misspelt key of a row
