"""The wire: one pooled HTTP client per ``AsyncIovox``, and the two ways to drive it.

:class:`AiohttpWire` (the default on asyncio) sends through one
``aiohttp.ClientSession`` directly. :class:`HttpxWire` sends through an
``httpx.AsyncClient``: httpx's native pool under trio or with
``transport="httpx"``, or a client the caller injected. Both answer with the same
:class:`Answer` and report network failures as :class:`NetworkFailure`, so the
transport above them (limiter, retries, decoding) is one piece of code.

Why not httpx over httpx-aiohttp's transport on asyncio: building httpx's request
and response models around each aiohttp exchange cost about 2.3x raw aiohttp's wall
time at 100 concurrent calls (``benchmarks/transport.py``); see docs/design.md.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal, Protocol

import httpx

from ._constants import KEEPALIVE_EXPIRY, STREAM_CHUNK_SIZE, USER_AGENT
from ._errors import ClientClosedError
from ._retry import never_sent

if TYPE_CHECKING:
    import aiohttp

TransportChoice = Literal["auto", "aiohttp", "httpx"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds for a whole read/write step and for connecting (pool waits use ``read``)."""

    read: float
    connect: float


@dataclass(slots=True)
class Answer:
    """An HTTP answer: status, headers (case-insensitive ``get``) and the body read.

    For a download the body is empty on success (it went to the file) and holds the
    error page otherwise.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    written: int = 0
    """Bytes written to the file of a download."""
    expected: int | None = None
    """The Content-Length a download should have had (None when unknown or encoded)."""


class NetworkFailure(Exception):
    """An attempt that failed below HTTP.

    ``never_sent`` says whether the request provably never reached the server (and so
    may be repeated even when it has side effects); ``timed_out`` picks the message.
    """

    def __init__(self, cause: BaseException, *, timed_out: bool | None = None) -> None:
        text = str(cause)
        super().__init__(f"{type(cause).__name__}: {text}" if text else type(cause).__name__)
        self.cause = cause
        self.never_sent = never_sent(cause)
        self.timed_out = isinstance(cause, asyncio.TimeoutError) if timed_out is None else timed_out
        self.attempts = 1


class Wire(Protocol):
    """Sends one request; raises :class:`NetworkFailure` below HTTP."""

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        t: Timeouts,
        sink: IO[bytes] | None,
    ) -> Answer:
        """One request. With a ``sink`` a successful body is streamed into it."""
        ...

    async def aclose(self) -> None: ...


def _expected_length(headers: Mapping[str, str]) -> int | None:
    # A Content-Length of an encoded body counts encoded bytes, not the ones written.
    if headers.get("content-encoding", "identity").lower() != "identity":
        return None
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


# -- aiohttp ------------------------------------------------------------------------------


class AiohttpWire:
    """Requests straight through one ``aiohttp.ClientSession``, created on first use."""

    def __init__(self, max_connections: int, proxy: str | None = None) -> None:
        import aiohttp
        import yarl

        self._aiohttp = aiohttp
        self._url = yarl.URL
        self._max_connections = max_connections
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # aiohttp's timeout errors derive from asyncio.TimeoutError (not the builtin on 3.10).
        self._failures: tuple[type[BaseException], ...] = (
            aiohttp.ClientError,
            asyncio.TimeoutError,
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("this AsyncIovox client is closed; create a new one")
        if self._session is None:
            aiohttp = self._aiohttp
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=KEEPALIVE_EXPIRY,
                ssl=httpx.create_ssl_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # the API's session cookie is not kept
                headers={"User-Agent": USER_AGENT},
                skip_auto_headers=("Content-Type",),
            )
        return self._session

    def _timeout(self, t: Timeouts) -> aiohttp.ClientTimeout:
        # ``connect`` covers waiting for a pooled connection plus connecting.
        return self._aiohttp.ClientTimeout(
            total=None, connect=t.read, sock_connect=t.connect, sock_read=t.read
        )

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        t: Timeouts,
        sink: IO[bytes] | None,
    ) -> Answer:
        session = self._get_session()
        try:
            async with session.request(
                method,
                self._url(url, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout(t),
                proxy=self._proxy,
            ) as response:
                if sink is None or response.status >= 400:
                    return Answer(response.status, response.headers, await response.read())
                written = 0
                async for chunk in response.content.iter_chunked(STREAM_CHUNK_SIZE):
                    sink.write(chunk)
                    written += len(chunk)
                expected = _expected_length(response.headers)
                return Answer(response.status, response.headers, b"", written, expected)
        except self._failures as exc:
            raise NetworkFailure(exc) from exc

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


# -- httpx --------------------------------------------------------------------------------


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The API sets a session cookie on every response; we keep none."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def build_httpx_client(max_connections: int, proxy: str | None = None) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on httpx's native pool, sized for ``max_connections``."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    return httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(limits=limits, proxy=proxy, retries=0),
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    )


class HttpxWire:
    """Requests through an ``httpx.AsyncClient``; closes it only when it owns it."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool) -> None:
        self.client = client
        self._owned = owned

    @staticmethod
    def _timeout(t: Timeouts) -> dict[str, float]:
        return httpx.Timeout(t.read, connect=t.connect).as_dict()  # type: ignore[return-value]

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        t: Timeouts,
        sink: IO[bytes] | None,
    ) -> Answer:
        request = self.client.build_request(
            method, url, headers=headers, content=body, extensions={"timeout": self._timeout(t)}
        )
        if self.client.is_closed:
            raise ClientClosedError("the httpx.AsyncClient this client uses is closed")
        try:
            response = await self.client.send(request, stream=sink is not None)
            if sink is None:
                return Answer(response.status_code, response.headers, response.content)
            try:
                if response.status_code >= 400:
                    return Answer(response.status_code, response.headers, await response.aread())
                written = 0
                async for chunk in response.aiter_bytes(STREAM_CHUNK_SIZE):
                    sink.write(chunk)
                    written += len(chunk)
                expected = _expected_length(response.headers)
                return Answer(response.status_code, response.headers, b"", written, expected)
            finally:
                await response.aclose()
        except httpx.RequestError as exc:  # transport failures, and bodies that fail to decode
            raise NetworkFailure(exc, timed_out=isinstance(exc, httpx.TimeoutException)) from exc

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


def resolve_transport(choice: TransportChoice) -> Literal["aiohttp", "httpx"]:
    """The transport to use in the running event loop."""
    if choice != "auto":
        return choice
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio (or no loop): aiohttp needs asyncio
        return "httpx"
    return "aiohttp"


def build_wire(choice: TransportChoice, max_connections: int, proxy: str | None) -> Wire:
    """The wire for the running event loop (see :func:`resolve_transport`)."""
    if resolve_transport(choice) == "aiohttp":
        return AiohttpWire(max_connections, proxy)
    return HttpxWire(build_httpx_client(max_connections, proxy), owned=True)
