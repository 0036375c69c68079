"""Build the one pooled ``httpx.AsyncClient`` a client uses, and pick its transport.

On asyncio the default transport is httpx-aiohttp's ``AiohttpTransport``: httpx's
own pool slows down badly under concurrency (LESSONS.md). Under trio, or when asked
with ``transport="httpx"``, httpx's native transport is used.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
from typing import TYPE_CHECKING, Literal

import httpx

if TYPE_CHECKING:
    import aiohttp

from ._constants import KEEPALIVE_EXPIRY, USER_AGENT

TransportChoice = Literal["auto", "aiohttp", "httpx"]


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The API sets a session cookie on every response; we keep none."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def resolve_transport(choice: TransportChoice) -> Literal["aiohttp", "httpx"]:
    """The transport to use in the running event loop."""
    if choice != "auto":
        return choice
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio (or no loop): aiohttp needs asyncio
        return "httpx"
    return "aiohttp"


def _aiohttp_transport(limits: httpx.Limits, proxy: str | None) -> httpx.AsyncBaseTransport:
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    def session_factory() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry or KEEPALIVE_EXPIRY,
            ssl=httpx.create_ssl_context(),
        )
        # A session created here, inside the running loop, on first use.
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    session: list[aiohttp.ClientSession] = []

    def shared_session() -> aiohttp.ClientSession:
        if not session:
            session.append(session_factory())
        return session[0]

    transport = AiohttpTransport(
        limits=limits,
        proxy=httpx.Proxy(proxy) if proxy else None,
        client=shared_session,
    )
    return _ClosingAiohttpTransport(transport, session)


class _ClosingAiohttpTransport(httpx.AsyncBaseTransport):
    """Wraps AiohttpTransport so closing the client closes the aiohttp session it made."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, session: list[aiohttp.ClientSession]
    ) -> None:
        self._inner = inner
        self._session = session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        for session in self._session:
            if not session.closed:
                await session.close()
        self._session.clear()


def build_http_client(
    *,
    transport: TransportChoice,
    max_connections: int,
    timeout: httpx.Timeout,
    proxy: str | None = None,
) -> httpx.AsyncClient:
    """A pooled client sized for ``max_connections`` requests in flight."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    kind = resolve_transport(transport)
    chosen: httpx.AsyncBaseTransport
    if kind == "aiohttp":
        chosen = _aiohttp_transport(limits, proxy)
    else:
        chosen = httpx.AsyncHTTPTransport(limits=limits, proxy=proxy, retries=0)
    return httpx.AsyncClient(
        transport=chosen,
        timeout=timeout,
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    )
