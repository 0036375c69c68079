"""The ``iter_`` twins over loopback against the emulator: every row in order, pages
fetched ahead and bounded, early exit, faults, bad arguments and trio."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any

import anyio
import pytest

from iovox_async import ServerError, ValidationError
from iovox_async.testing import RunningEmulator

WIDE = {"sdt": "2020-01-01", "edt": "2030-12-31"}

# (interface attribute, plain method, twin, API key, page size, filters)
CASES = [
    ("nodes", "get_nodes", "iter_nodes", "Nodes.getNodes", 7, {}),
    ("links", "get_links", "iter_links", "Links.getLinks", 9, {}),
    ("contacts", "get_contacts", "iter_contacts", "Contacts.getContacts", 5, {}),
    ("voxnumbers", "get_voxnumbers", "iter_voxnumbers", "Voxnumbers.getVoxnumbers", 10, {}),
    ("sms", "get_sms_data", "iter_sms_data", "SMS.getSmsData", 4, WIDE),
    ("calls", "get_call_data", "iter_call_data", "Calls.getCallData", 25, WIDE),
]


def no_sleep_client(emulator: RunningEmulator, **options: Any) -> Any:
    client = emulator.client(**options)

    async def no_sleep(seconds: float) -> None:
        return None

    client._transport.policy.sleep = no_sleep
    return client


@pytest.mark.parametrize(
    ("attribute", "plain", "twin", "key", "page_size", "filters"),
    CASES,
    ids=[case[2] for case in CASES],
)
async def test_every_row_in_order_across_pages(
    lists_emulator: RunningEmulator,
    attribute: str,
    plain: str,
    twin: str,
    key: str,
    page_size: int,
    filters: dict[str, Any],
) -> None:
    async with lists_emulator.client() as iovox:
        interface = getattr(iovox, attribute)
        whole = await getattr(interface, plain)(limit=5000, **filters)
        expected = whole["results"]["result"]
        assert len(expected) > 2 * page_size  # several pages, the last one partial or full
        before = lists_emulator.requests(key)
        rows = [row async for row in getattr(interface, twin)(page_size=page_size, **filters)]
        assert rows == expected
        assert lists_emulator.requests(key) - before == math.ceil(len(expected) / page_size)


async def test_filters_reach_every_page(lists_emulator: RunningEmulator) -> None:
    async with lists_emulator.client() as iovox:
        whole = await iovox.calls.get_call_data(limit=5000, direction="IN", **WIDE)
        expected = whole["results"]["result"]
        rows = [r async for r in iovox.calls.iter_call_data(page_size=6, direction="IN", **WIDE)]
    assert rows == expected and len(rows) > 12


async def test_an_empty_list_yields_nothing_after_one_request(
    lists_emulator: RunningEmulator,
) -> None:
    async with lists_emulator.client() as iovox:
        before = lists_emulator.requests("Nodes.getNodes")
        assert [row async for row in iovox.nodes.iter_nodes(node_id="no-such-node")] == []
        assert lists_emulator.requests("Nodes.getNodes") - before == 1


async def test_prefetch_is_bounded(emulator: RunningEmulator) -> None:
    emulator.set_faults({"methods": {"Nodes.getNodes": {"latency_ms": 20}}})
    async with emulator.client() as iovox:
        expected = (await iovox.nodes.get_nodes(limit=100))["results"]["result"]
        pages = math.ceil(len(expected) / 2)
        assert pages > 6
        emulator.reset(state=False, stats=True, faults=False)
        rows = iovox.nodes.iter_nodes(page_size=2, prefetch=3)
        async with contextlib.aclosing(rows):
            first = await anext(rows)
            await asyncio.sleep(0.15)  # ample time for more pages, were they asked for
            assert emulator.requests("Nodes.getNodes") == 1 + 3
            rest = [row async for row in rows]
        assert [first, *rest] == expected
        assert emulator.requests("Nodes.getNodes") == pages


async def test_leaving_early_cancels_the_pages_in_flight(emulator: RunningEmulator) -> None:
    latency = 0.4
    emulator.set_faults({"methods": {"Nodes.getNodes": {"latency_ms": latency * 1000}}})
    async with emulator.client() as iovox:
        async with contextlib.aclosing(iovox.nodes.iter_nodes(page_size=2, prefetch=4)) as rows:
            async for _ in rows:
                await asyncio.sleep(0.05)  # the prefetched pages reach the emulator
                break
            in_flight = emulator.requests("Nodes.getNodes") - 1
            started = time.perf_counter()
        closing = time.perf_counter() - started
        assert in_flight == 4
        assert closing < latency / 2  # cancelled, not waited for
        leftovers = [t for t in asyncio.all_tasks() if "iter_rows" in repr(t.get_coro())]
        assert leftovers == []
        await asyncio.sleep(latency)
        assert emulator.requests("Nodes.getNodes") == 1 + in_flight  # nothing new was sent


async def test_server_errors_are_retried_within_pages(emulator: RunningEmulator) -> None:
    emulator.set_faults({"script": {"Nodes.getNodes": ["ok", "503", "ok", "503", "502"]}})
    async with no_sleep_client(emulator) as iovox:
        expected = (await iovox.nodes.get_nodes(limit=100))["results"]["result"]
        emulator.reset(state=False, stats=True, faults=True)
        rows = [row async for row in iovox.nodes.iter_nodes(page_size=4, prefetch=2)]
        assert rows == expected
        assert iovox.retries_taken == 3


async def test_a_page_that_fails_for_good_raises_from_the_iterator(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults({"script": {"Nodes.getNodes": ["ok"] + ["503"] * 30}})
    async with no_sleep_client(emulator, max_retries=1) as iovox:
        seen: list[Any] = []
        with pytest.raises(ServerError):
            async with contextlib.aclosing(iovox.nodes.iter_nodes(page_size=4)) as rows:
                async for row in rows:
                    seen.append(row)
        emulator.set_faults(None)
        expected = (await iovox.nodes.get_nodes(limit=100))["results"]["result"]
    assert seen == expected[:4]  # the first page, then the error, in order


@pytest.mark.parametrize(
    "arguments",
    [
        {"page_size": 0},
        {"page_size": 5001},  # getNodes documents 1 to 5000
        {"page_size": "10"},
        {"prefetch": -1},
        {"output": "CSV"},
        {"page_size": True},
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    lists_emulator: RunningEmulator, arguments: dict[str, Any]
) -> None:
    async with lists_emulator.client() as iovox:
        before = lists_emulator.requests("Nodes.getNodes")
        with pytest.raises(ValidationError):
            iovox.nodes.iter_nodes(**arguments)
        assert lists_emulator.requests("Nodes.getNodes") == before


def test_under_trio_pages_are_read_one_at_a_time(lists_emulator: RunningEmulator) -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        async with lists_emulator.client() as iovox:
            whole = (await iovox.contacts.get_contacts(limit=5000))["results"]["result"]
            rows = iovox.contacts.iter_contacts(page_size=3, prefetch=4)
            async with contextlib.aclosing(rows):
                return whole, [row async for row in rows]

    whole, rows = anyio.run(main, backend="trio")
    assert rows == whole and len(rows) == 23
