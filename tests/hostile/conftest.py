"""Hostile-server tests: every one bounded in time (a hang fails, never waits)."""

from __future__ import annotations

from typing import Any

import pytest

from iovox_async import AsyncIovox

from .rawserver import KEY


@pytest.fixture
def client_for() -> Any:
    def make(url: str, transport: str = "aiohttp", **options: Any) -> AsyncIovox:
        options.setdefault("max_retries", 0)
        client = AsyncIovox("user", KEY, base_url=url, transport=transport, **options)
        client._transport.policy.base_delay = 0.01
        return client

    return make
