"""``AsyncIovox.with_options``: a view with its own settings over the parent's pool."""

from __future__ import annotations

import asyncio
import time

import pytest

from iovox_async import ClientClosedError, ServerError, TransportError, ValidationError
from iovox_async.testing import FaultSettings, FaultSpec, run_emulator

SLOW = FaultSettings(default=FaultSpec(latency_ms=(60.0, 60.0)))


async def test_a_view_shares_the_pool_and_closing_it_leaves_the_parent_open() -> None:
    async with run_emulator(calls=20) as emulator, emulator.client() as iovox:
        async with iovox.with_options(timeout=5) as view:
            await view.voxnumbers.get_voxnumbers(limit=1)
            assert view._get_wire() is iovox._wire is not None  # one pool, the parent's
            assert view._wire is None
        assert view.closed and not iovox.closed
        with pytest.raises(ClientClosedError, match="closed"):
            await view.voxnumbers.get_voxnumbers(limit=1)
        await iovox.voxnumbers.get_voxnumbers(limit=1)  # the parent's pool is still open
        narrow = iovox.with_options(max_concurrency=1)
        await narrow.calls.get_call_data(limit=1, sdt="2000-01-01")
        assert "view" in repr(narrow) and "max_concurrency=1" in repr(narrow)
    with pytest.raises(ClientClosedError):
        await narrow.calls.get_call_data(limit=1, sdt="2000-01-01")
    assert narrow.closed


async def test_timeout_and_max_retries_apply_to_the_view_only() -> None:
    async with run_emulator(calls=0, faults=SLOW) as emulator, emulator.client() as iovox:
        with pytest.raises(TransportError, match="timed out"):
            await iovox.with_options(timeout=0.01, max_retries=0).countries.get_countries()
        await iovox.countries.get_countries()  # the parent keeps its 30 s
        emulator.set_faults(FaultSettings(default=FaultSpec(error_rate=1.0)))
        emulator.reset(state=False, faults=False)
        with pytest.raises(ServerError):
            await iovox.with_options(max_retries=0).countries.get_countries()
        assert emulator.requests("Countries.getCountries") == 1
        iovox._transport.policy.sleep = _no_sleep
        with pytest.raises(ServerError):
            await iovox.countries.get_countries()
        assert emulator.requests("Countries.getCountries") == 1 + 5  # parent: 4 retries


async def _no_sleep(seconds: float) -> None:
    return None


async def test_max_concurrency_narrows_and_the_parent_limit_still_holds() -> None:
    async with (
        run_emulator(calls=0, faults=SLOW) as emulator,
        emulator.client(max_concurrency=4) as iovox,
    ):
        view = iovox.with_options(max_concurrency=2)
        started = time.perf_counter()
        await asyncio.gather(*(view.countries.get_countries() for _ in range(6)))
        assert time.perf_counter() - started >= 3 * 0.06  # two at a time
        started = time.perf_counter()
        # four through the view and four through the parent: at most four in flight
        wide = iovox.with_options(max_concurrency=4)
        calls = [wide.countries.get_countries() for _ in range(4)]
        calls += [iovox.countries.get_countries() for _ in range(4)]
        await asyncio.gather(*calls)
        assert time.perf_counter() - started >= 2 * 0.06
        assert iovox._transport.limiter.borrowed_tokens == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": float("nan")}, "timeout must be a positive number"),
        ({"max_retries": -1}, "max_retries must be a whole number"),
        ({"max_concurrency": 0}, "max_concurrency must be a whole number from 1"),
        ({"max_concurrency": 65}, "cannot exceed its client's (64)"),
    ],
)
async def test_options_are_checked_like_the_constructor(
    options: dict[str, float], message: str
) -> None:
    async with run_emulator(calls=0) as emulator, emulator.client() as iovox:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
            iovox.with_options(**options)  # type: ignore[arg-type]
