"""Calls that arrive while a test reads: inserted into a running emulator on its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx

from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import RunningEmulator

CALL_START = INDEX["call_start"]


def insert_call(emulator: RunningEmulator, call_start: str) -> str:
    """Add a call starting at ``call_start`` (a copy of an existing one); return its id.

    Runs on the emulator's event loop, between two requests, as a real arrival would.
    """
    loop = emulator._loop
    assert loop is not None
    done = threading.Event()
    made: list[str] = []

    def add() -> None:
        store = emulator.state.call_store
        call_id = store.next_id()
        template = store.rows[0]
        store.add((call_id, call_start, *template[2:]))
        made.append(call_id)
        done.set()

    loop.call_soon_threadsafe(add)
    assert done.wait(10)
    return made[0]


def existing_ids(emulator: RunningEmulator) -> set[str]:
    loop = emulator._loop
    assert loop is not None
    future = asyncio.run_coroutine_threadsafe(_ids(emulator), loop)
    return future.result(10)


async def _ids(emulator: RunningEmulator) -> set[str]:
    return set(emulator.state.call_store.by_id)


def arrivals(
    emulator: RunningEmulator, starts: Callable[[int], str | None]
) -> tuple[httpx.AsyncClient, list[str]]:
    """An httpx client that, before the n-th page request of getCallData, adds a call
    starting at ``starts(n)`` (none when it returns None); and the list of added ids."""
    added: list[str] = []
    count = 0

    async def before(request: httpx.Request) -> None:
        nonlocal count
        params = request.url.params
        if params.get("method") != "getCallData" or params.get("limit") == "1":
            return
        count += 1
        start = starts(count)
        if start is not None:
            added.append(insert_call(emulator, start))

    return httpx.AsyncClient(event_hooks={"request": [before]}), added
