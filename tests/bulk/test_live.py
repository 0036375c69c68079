"""Exactly once while calls arrive: at both ends of the ordering, mid-range and past the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from iovox_async.bulk import Bulk
from iovox_async.testing import RunningEmulator, run_emulator

from .live import CALL_START, arrivals, existing_ids

EVERYTHING = {"sdt": "2000-01-01", "edt": "2100-12-31"}


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator(calls=1200, seed=11) as running:
        yield running


def positions(emulator: RunningEmulator) -> list[str]:
    """Call starts at the oldest and the newest second of the range, mid-range, and
    later than every call (past the pinned end)."""
    rows = emulator.state.call_store.rows
    oldest, newest, middle = rows[0][CALL_START], rows[-1][CALL_START], rows[600][CALL_START]
    return [oldest, newest, middle, "2099-01-01 00:00:00"]


async def naive_ids(bulk_client: object, page_size: int) -> list[str]:
    """Plain offset paging, pages fetched as they come: what iter_call_data used to do."""
    ids: list[str] = []
    page = 1
    while True:
        answer = await bulk_client.calls.get_call_data(  # type: ignore[attr-defined]
            page=page, limit=page_size, **EVERYTHING
        )
        rows = answer["results"]["result"] if answer.get("results") else []
        ids += [row["id"] for row in rows]
        if page * page_size >= int(answer["total_results"]):
            return ids
        page += 1


async def test_the_scenario_breaks_plain_paging(emulator: RunningEmulator) -> None:
    """The control: the same arrivals give plain paging duplicates."""
    spots = positions(emulator)
    http, added = arrivals(emulator, lambda n: spots[1] if n % 2 == 0 else None)
    async with http, emulator.client(http_client=http) as client:
        ids = await naive_ids(client, 50)
    assert added
    assert len(ids) != len(set(ids))  # rows shifted under the pages


@pytest.mark.parametrize("order", ["cs_ASC", "cs_DESC"])
async def test_every_cdr_exactly_once_while_calls_arrive(
    emulator: RunningEmulator, order: str
) -> None:
    before = existing_ids(emulator)
    spots = positions(emulator)
    http, added = arrivals(emulator, lambda n: spots[n % len(spots)] if n % 3 == 0 else None)
    async with http, emulator.client(http_client=http) as client:
        bulk = Bulk(client)
        ids = [
            row["id"]
            async for row in bulk.iter_call_data(
                page_size=50, prefetch=4, window_rows=300, order=order, **EVERYTHING
            )
        ]
    assert len(added) >= 8  # calls did arrive, at every position
    assert len(ids) == len(set(ids)), "no id twice"
    assert before <= set(ids), f"{len(before - set(ids))} CDRs missing"
    assert set(ids) - before <= set(added)
    assert "2099" not in "".join(  # past the pinned end: not part of this run
        emulator.state.call_store.by_id[i][CALL_START] for i in set(ids) - before
    )


async def test_an_export_while_calls_arrive(emulator: RunningEmulator, tmp_path: object) -> None:
    from pathlib import Path

    before = existing_ids(emulator)
    spots = positions(emulator)
    http, added = arrivals(emulator, lambda n: spots[n % 2] if n % 2 else None)
    target = Path(str(tmp_path)) / "calls.jsonl"
    async with http, emulator.client(http_client=http) as client:
        count = await Bulk(client).export_call_data(
            target, page_size=40, window_rows=200, concurrency=3, **EVERYTHING
        )
    import json

    ids = [json.loads(line)["id"] for line in target.read_text().splitlines()]
    assert added and count == len(ids) == len(set(ids))
    assert before <= set(ids)
