"""Fixtures for the emulator tests: emulators on loopback HTTP and a raw httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from iovox_async.testing import RunningEmulator

SHARED_OPTIONS: dict[str, Any] = {"calls": 3_000, "seed": 7}


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[RunningEmulator]:
    """One emulator for tests that only read (or reset what they change)."""
    with RunningEmulator(**SHARED_OPTIONS) as emulator:
        yield emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator for tests that change state or faults."""
    with RunningEmulator(calls=600, seed=3) as running:
        yield running


@pytest.fixture
async def http(shared_emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client on the shared emulator, credentials set."""
    async with shared_emulator.http_client() as client:
        yield client


@pytest.fixture
async def fresh_http(emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client on a fresh emulator."""
    async with emulator.http_client() as client:
        yield client
