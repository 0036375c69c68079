"""Helpers for bulk-engine tests: a client over ``httpx.MockTransport`` with instant back-off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from iovox_async import AsyncIovox
from iovox_async.bulk import Bulk

BASE = "https://api.test"
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
MakeBulk = Callable[..., tuple[AsyncIovox, Bulk]]


async def no_sleep(seconds: float) -> None:
    return None


def xml(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(),
        headers={"content-type": "text/xml"},
    )


def error(status: int, message: str) -> httpx.Response:
    return xml(f'<errors><error status="{status}">{message}</error></errors>', status)


def method_of(request: httpx.Request) -> str:
    return request.url.params["method"]


@pytest.fixture
def make_bulk() -> MakeBulk:
    """``make_bulk(handler, **client_options)`` -> (client, Bulk(client))."""

    def factory(handler: Handler, **options: Any) -> tuple[AsyncIovox, Bulk]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = AsyncIovox("user", "key", base_url=BASE, http_client=http, **options)
        client._transport.policy.sleep = no_sleep
        return client, Bulk(client)

    return factory
