"""Fixtures for the paging tests: a read-only emulator on loopback, and a fresh one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iovox_async.testing import RunningEmulator


@pytest.fixture(scope="module")
def lists_emulator() -> Iterator[RunningEmulator]:
    """Enough nodes, links, contacts, numbers, SMS and calls for several small pages."""
    with RunningEmulator(calls=120, nodes=12, contacts=23, sms=17, seed=11) as emulator:
        yield emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator for tests that set faults."""
    with RunningEmulator(calls=20, nodes=12, seed=4) as running:
        yield running
