"""A fresh emulator per test: these tests create and change call flows and links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iovox_async.testing import RunningEmulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=200, seed=5) as running:
        yield running
