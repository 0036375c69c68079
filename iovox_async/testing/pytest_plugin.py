"""pytest fixtures: a running emulator per test, configurable with a marker.

Enable with ``pytest_plugins = ["iovox_async.testing.pytest_plugin"]``, then::

    @pytest.mark.iovox_emulator(calls=200, seed=7)
    async def test_something(iovox_emulator):
        async with iovox_emulator.client() as iovox:
            ...

The fixtures are synchronous (the emulator has its own thread and event loop), so
they work with sync tests, pytest-asyncio in any mode, anyio and trio.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._runner import RunningEmulator

DEFAULT_OPTIONS: dict[str, Any] = {"calls": 1_000}
"""Fewer seeded calls than the emulator's default, so each test starts fast."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``iovox_emulator`` marker."""
    config.addinivalue_line(
        "markers",
        "iovox_emulator(**options): EmulatorConfig options for the iovox_emulator fixture",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options = dict(DEFAULT_OPTIONS)
    marker = request.node.get_closest_marker("iovox_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    return options


@pytest.fixture
def iovox_emulator(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """A fresh emulator on a free 127.0.0.1 port for one test."""
    with RunningEmulator(**_options(request)) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def iovox_emulator_session() -> Iterator[RunningEmulator]:
    """One emulator shared by the whole session (call ``reset()`` between tests if needed)."""
    with RunningEmulator(**DEFAULT_OPTIONS) as emulator:
        yield emulator
