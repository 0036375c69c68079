"""Helpers for transport unit tests: a client wired to an ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from iovox_async import AsyncIovox

SECRET = "s3cr3t-key-ABC123-do-not-leak"
BASE = "https://api.test:444"

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Sleeps(list[float]):
    """A fake sleep that records the requested delays, returns at once, and moves a
    fake clock on by the delay (so deadlines can be tested without waiting)."""

    now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def xml(body: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(),
        headers={"content-type": "text/xml", **headers},
    )


def errors(status: int, *messages: str, **headers: str) -> httpx.Response:
    items = "".join(f'<error status="{status}">{m}</error>' for m in messages)
    return xml(f"<errors>{items}</errors>", status, **headers)


@pytest.fixture
def make_client() -> Callable[..., tuple[AsyncIovox, Sleeps]]:
    def factory(handler: Handler, **options: Any) -> tuple[AsyncIovox, Sleeps]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = AsyncIovox("user", SECRET, base_url=BASE, http_client=http, **options)
        sleeps = Sleeps()
        client._transport.policy.sleep = sleeps
        client._transport.policy.clock = sleeps.clock
        return client, sleeps

    return factory
