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


async def wrong_raw(iovox: AsyncIovox) -> None:
    # The wrapper checks the wrapped method's arguments and keeps its result type.
    raw = await iovox.with_raw_response(iovox.calls.get_call_data, limt=10)
    raw.parsed["results"]["result"][0]["call_strat"]
