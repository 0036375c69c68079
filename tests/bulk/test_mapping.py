"""The generic bounded map and the per-item report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from iovox_async import OutcomeUnknownError, ValidationError
from iovox_async.bulk import Bulk, BulkError, BulkReport, SkipItem
from iovox_async.bulk.mapping import bulk_map

from .conftest import MakeBulk


async def test_results_in_input_order_with_bounded_concurrency() -> None:
    running = 0
    peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (n % 7))
        running -= 1
        return n * n

    seen: list[tuple[int, int | None]] = []
    report = await bulk_map(
        work, range(100), concurrency=8, progress=lambda d, t: seen.append((d, t))
    )
    assert report.values() == [n * n for n in range(100)]
    assert [r.index for r in report] == list(range(100))
    assert peak == 8
    assert seen[0] == (0, 100) and seen[-1] == (100, 100)
    assert [d for d, _ in seen] == list(range(101))
    assert report.all_ok and report.counts == {"ok": 100, "skipped": 0, "failed": 0, "unknown": 0}


async def test_one_failure_never_sinks_the_batch() -> None:
    async def work(n: int) -> int:
        if n == 3:
            raise ValueError("three is bad")
        if n == 5:
            raise SkipItem("five is skipped", value=-5)
        if n == 7:
            raise OutcomeUnknownError("Purchase", "purchaseVoxNumbers", "dropped", "check")
        return n

    report = await bulk_map(work, range(10), concurrency=3)
    assert report.counts == {"ok": 7, "skipped": 1, "failed": 1, "unknown": 1}
    assert report[3].status == "failed" and report[3].reason == "ValueError: three is bad"
    assert isinstance(report[3].error, ValueError)
    assert report[5].status == "skipped" and report[5].value == -5
    assert report[7].status == "unknown"
    assert not report.all_ok
    with pytest.raises(ValueError):
        report[3].unwrap()
    with pytest.raises(BulkError):
        report[5].unwrap()
    assert report[0].unwrap() == 0
    data = report.to_dict()
    json.dumps(data)
    assert [p["index"] for p in data["problems"]] == [3, 5, 7]
    summary = report.summary()
    assert summary.startswith(
        "10 items: 7 ok, 1 skipped (five is skipped), 1 failed, 1 unknown in "
    ), summary


async def test_empty_input_and_bad_concurrency() -> None:
    async def work(n: int) -> int:
        return n

    report: BulkReport[int] = await bulk_map(work, [], concurrency=4)
    assert len(report) == 0 and report.all_ok
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValidationError):
            await bulk_map(work, [1], concurrency=bad)  # type: ignore[arg-type]


async def test_cancelling_the_map_cancels_items_in_flight() -> None:
    started = asyncio.Event()
    cancelled = 0

    async def work(n: int) -> int:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return n

    task = asyncio.create_task(bulk_map(work, range(20), concurrency=4))
    await started.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled == 4


async def test_bulk_map_method_on_the_client_facade(make_bulk: MakeBulk) -> None:
    async def handler(request: object) -> None:
        raise AssertionError("no request expected")

    _, bulk = make_bulk(handler)

    async def double(n: int) -> int:
        return 2 * n

    report = await bulk.map(double, [1, 2, 3], concurrency=2)
    assert report.values() == [2, 4, 6]
    assert "Bulk of" in repr(bulk)


async def test_an_async_source_is_read_as_the_work_goes() -> None:
    produced: list[int] = []
    closed = False

    async def source() -> AsyncIterator[int]:
        nonlocal closed
        try:
            for n in range(50):
                produced.append(n)
                await asyncio.sleep(0)
                yield n
        finally:
            closed = True

    high_water = 0

    async def work(n: int) -> int:
        nonlocal high_water
        high_water = max(high_water, len(produced) - n)
        await asyncio.sleep(0.001)
        return -n

    totals: set[int | None] = set()
    report = await bulk_map(work, source(), concurrency=4, progress=lambda d, t: totals.add(t))
    assert report.values() == [-n for n in range(50)]
    assert [r.index for r in report] == list(range(50))
    assert totals == {None}
    assert high_water <= 5  # never read far ahead of the workers
    assert closed


async def test_a_failing_async_source_stops_the_job_and_is_closed() -> None:
    closed = False

    async def source() -> AsyncIterator[int]:
        nonlocal closed
        try:
            yield 1
            yield 2
            raise RuntimeError("the CDR listing broke")
        finally:
            closed = True

    async def work(n: int) -> int:
        return n

    with pytest.raises(RuntimeError, match="the CDR listing broke"):
        await bulk_map(work, source(), concurrency=2)
    assert closed

    def bad_progress(done: int, total: int | None) -> None:
        if done == 3:
            raise ValueError("progress bar broke")

    with pytest.raises(ValueError, match="progress bar broke"):
        await bulk_map(work, range(10), concurrency=2, progress=bad_progress)


async def test_the_client_has_a_cached_bulk_attribute(make_bulk: MakeBulk) -> None:
    async def handler(request: object) -> None:
        raise AssertionError("no request expected")

    client, _ = make_bulk(handler)
    bulk = getattr(client, "bulk", None)
    if bulk is None:
        pytest.skip("AsyncIovox.bulk is not wired yet")
    assert isinstance(bulk, Bulk) and client.bulk is bulk
