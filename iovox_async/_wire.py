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
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import httpx

from ._constants import ERROR_BODY_BYTES, KEEPALIVE_EXPIRY, STREAM_CHUNK_SIZE, USER_AGENT
from ._errors import ClientClosedError
from ._redact import redact
from ._retry import is_deterministic, never_sent

if TYPE_CHECKING:
    import aiohttp

TransportChoice = Literal["auto", "aiohttp", "httpx"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """The longest gap between bytes, the seconds for connecting, and for it all.

    ``total`` bounds a whole exchange on a wire that can (``bounds_total``), and then
    ``read`` needs no timer of its own; the transport otherwise bounds it with a
    cancel scope, and always for downloads, whose deadline moves with the bytes
    received.
    """

    read: float
    connect: float
    total: float | None = None


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
    """An attempt that failed below HTTP, described without the library's exception.

    The cause is read once, here, and dropped: aiohttp's and httpx's exceptions carry
    the request (headers included), so keeping one in a chain, a traceback or a log
    would expose the secure key. What is kept is a redacted one-line account and the
    facts the retry policy needs: ``never_sent`` (the request provably never reached
    the server, so even a call with side effects may be repeated), ``deterministic``
    (a certificate error or an unknown host: repeating cannot help) and ``timed_out``.
    """

    def __init__(
        self,
        description: str,
        *,
        kind: str,
        never_sent: bool = False,
        timed_out: bool = False,
        deterministic: bool = False,
    ) -> None:
        super().__init__(redact(description))
        self.kind = kind
        self.never_sent = never_sent
        self.timed_out = timed_out
        self.deterministic = deterministic
        self.attempts = 1

    @classmethod
    def from_cause(cls, cause: BaseException, *, timed_out: bool | None = None) -> NetworkFailure:
        """The failure for a library exception (which must not be chained to it)."""
        text = str(cause)
        name = type(cause).__name__
        return cls(
            f"{name}: {text}" if text else name,
            kind=name,
            never_sent=never_sent(cause),
            timed_out=isinstance(cause, asyncio.TimeoutError) if timed_out is None else timed_out,
            deterministic=is_deterministic(cause),
        )


class BodyTooLarge(Exception):
    """A body passed its size limit (counted after decompression)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response body exceeded {limit} bytes")
        self.limit = limit


class _Collector:
    """Gathers a body's chunks up to ``limit`` bytes, or writes them to a sink."""

    __slots__ = ("chunks", "limit", "sink", "truncate", "written")

    def __init__(self, limit: int, sink: Sink | None, *, truncate: bool = False) -> None:
        self.limit = limit
        self.sink = sink
        self.truncate = truncate
        self.written = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> bool:
        """Take one chunk; False once a truncating collector is full (stop reading)."""
        self.written += len(chunk)
        if self.written > self.limit:
            if not self.truncate:
                raise BodyTooLarge(self.limit)
            self.chunks.append(chunk[: len(chunk) - (self.written - self.limit)])
            return False
        if self.sink is not None:
            self.sink.write(chunk)
        else:
            self.chunks.append(chunk)
        return True

    def body(self) -> bytes:
        return b"".join(self.chunks)


def _fits(headers: Mapping[str, str], limit: int) -> bool:
    """Whether a body is unencoded with a Content-Length within ``limit``."""
    if headers.get("content-encoding", "identity").lower() != "identity":
        return False
    value = headers.get("content-length")
    return value is not None and value.isdigit() and int(value) <= limit


def _announced_too_large(headers: Mapping[str, str], limit: int) -> bool:
    value = headers.get("content-length")
    return value is not None and value.isdigit() and int(value) > limit


class Sink(Protocol):
    """Where a download's body goes (a binary file, or a wrapper around one)."""

    def write(self, chunk: bytes, /) -> object: ...


class Wire(Protocol):
    """Sends one request; raises :class:`NetworkFailure` below HTTP."""

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        t: Timeouts,
        sink: Sink | None,
        limit: int,
    ) -> Answer:
        """One request, never following a redirect.

        With a ``sink`` a 200 body is streamed into it; any other answer's body is
        kept in memory, truncated to ``ERROR_BODY_BYTES``. ``limit`` bounds the body
        (decoded bytes): past it :class:`BodyTooLarge` is raised.
        """
        ...

    async def aclose(self) -> None: ...

    @property
    def bounds_total(self) -> bool:
        """Whether :attr:`Timeouts.total` bounds a non-streamed exchange on this wire."""
        ...


def _expected_length(headers: Mapping[str, str]) -> int | None:
    # A Content-Length of an encoded body counts encoded bytes, not the ones written.
    if headers.get("content-encoding", "identity").lower() != "identity":
        return None
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


ACCEPT_ENCODING = "gzip, deflate"
"""The encodings asked for, on both wires; each is inflated within the size limit."""


class UnsupportedEncoding(Exception):
    """A body in a content-encoding the client did not ask for."""


async def _inflate(raw: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    """Decode a gzip/deflate stream a bounded piece at a time.

    httpx inflates each network read in one call (a 64 KiB read of a gzip bomb can
    become 64 MiB at once); here every piece is at most ``STREAM_CHUNK_SIZE``, so
    the size limit stops a bomb before it takes memory.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        async for chunk in raw:
            yield chunk
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedEncoding(encoding)
    decoder: zlib._Decompress | None = None
    async for chunk in raw:
        if decoder is None:
            if encoding == "deflate":  # zlib-wrapped as specified, or raw as some servers send
                wbits = zlib.MAX_WBITS if chunk[:1] and chunk[0] & 0x0F == 8 else -zlib.MAX_WBITS
            else:
                wbits = 16 + zlib.MAX_WBITS
            decoder = zlib.decompressobj(wbits)
        data = chunk
        while data and not decoder.eof:
            try:
                piece = decoder.decompress(data, STREAM_CHUNK_SIZE)
            except zlib.error as exc:
                raise UnsupportedEncoding(f"a corrupt {encoding} body ({exc})") from None
            if piece:
                yield piece
            data = decoder.unconsumed_tail


# -- aiohttp ------------------------------------------------------------------------------


def disable_silent_resend(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp re-sending GET/PUT/DELETE by itself after a dropped keep-alive.

    aiohttp (3.9 and later) repeats an idempotent request once, inside
    ``ClientSession._request``, when a pooled connection turns out to be closed. That
    repeat is invisible to the retry policy (a PUT declared ``idempotent=False``
    would reach the server twice, and ``max_retries=0`` would still send twice). It
    has no public switch; the session's ``_retry_connection`` flag is what aiohttp's
    own loop reads, so it is set off, and the test suite checks that the flag exists
    so an aiohttp upgrade that renames it fails loudly.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


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
        # Keyed by identity (the Timeouts is kept alive in the value, so its id stays
        # its own): hashing a dataclass per request costs more than the lookup.
        self._timeouts: dict[int, tuple[Timeouts, aiohttp.ClientTimeout]] = {}
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
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # the API's session cookie is not kept
                # No ``skip_auto_headers``: it costs two header copies per request, and
                # aiohttp adds a Content-Type only to a body, which always carries ours.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
            )
            disable_silent_resend(session)
            self._session = session
        return self._session

    bounds_total = True
    """aiohttp's own ``total`` timer is cheaper than a cancel scope per request."""

    def _timeout(self, t: Timeouts) -> aiohttp.ClientTimeout:
        cached = self._timeouts.get(id(t))
        if cached is not None and cached[0] is t:
            return cached[1]
        # ``connect`` covers waiting for a pooled connection plus connecting. The gap
        # between bytes is timed only where no total bounds the exchange (a stream):
        # the total (``read`` plus a small grace) ends any longer gap anyway, and a
        # per-read timer costs two timer handles per response, about a sixth of
        # aiohttp's CPU at 500 concurrent calls (benchmarks/README.md).
        timeout = self._aiohttp.ClientTimeout(
            total=t.total,
            connect=t.read,
            sock_connect=t.connect,
            sock_read=t.read if t.total is None else None,
        )
        if len(self._timeouts) >= 64:  # first attempts share a few; retries vary
            self._timeouts.clear()
        self._timeouts[id(t)] = (t, timeout)
        return timeout

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        t: Timeouts,
        sink: Sink | None,
        limit: int,
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
                streaming = sink is not None and response.status == 200
                if streaming and _announced_too_large(response.headers, limit):
                    raise BodyTooLarge(limit)
                if sink is None and _fits(response.headers, limit):
                    # A plain body of announced size: aiohttp reads exactly that many bytes.
                    return Answer(response.status, response.headers, await response.read())
                collector = _Collector(
                    limit if sink is None or streaming else ERROR_BODY_BYTES,
                    sink if streaming else None,
                    truncate=sink is not None and not streaming,
                )
                async for chunk in response.content.iter_chunked(STREAM_CHUNK_SIZE):
                    if not collector.add(chunk):
                        break
                if streaming:
                    expected = _expected_length(response.headers)
                    return Answer(
                        response.status, response.headers, b"", collector.written, expected
                    )
                return Answer(response.status, response.headers, collector.body())
        except self._failures as exc:
            failure = NetworkFailure.from_cause(exc)
        # Raised outside the handler, so the library's exception is not its context.
        raise failure

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
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=False,
        trust_env=False,
    )


async def _loaded(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), STREAM_CHUNK_SIZE):
        yield body[start : start + STREAM_CHUNK_SIZE]


def _body_pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    """A response's decoded body in bounded pieces."""
    try:
        body = response.content  # already in memory: a mock transport's response
    except httpx.ResponseNotRead:
        encoding = response.headers.get("content-encoding", "")
        return _inflate(response.aiter_raw(STREAM_CHUNK_SIZE), encoding)
    return _loaded(body)


class HttpxWire:
    """Requests through an ``httpx.AsyncClient``; closes it only when it owns it."""

    bounds_total = False
    """httpx has no whole-request timeout: the transport's cancel scope is it."""

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
        sink: Sink | None,
        limit: int,
    ) -> Answer:
        # Set per request: an injected client's own default may ask for br or zstd.
        headers = {**headers, "Accept-Encoding": ACCEPT_ENCODING}
        request = self.client.build_request(
            method, url, headers=headers, content=body, extensions={"timeout": self._timeout(t)}
        )
        if self.client.is_closed:
            raise ClientClosedError("the httpx.AsyncClient this client uses is closed")
        try:
            # Per request: an injected client built with follow_redirects=True would
            # otherwise send the secure key (and replay a POST) to another host.
            response = await self.client.send(request, stream=True, follow_redirects=False)
            try:
                status = response.status_code
                streaming = sink is not None and status == 200
                if streaming and _announced_too_large(response.headers, limit):
                    raise BodyTooLarge(limit)
                collector = _Collector(
                    limit if sink is None or streaming else ERROR_BODY_BYTES,
                    sink if streaming else None,
                    truncate=sink is not None and not streaming,
                )
                async for chunk in _body_pieces(response):
                    if not collector.add(chunk):
                        break
            finally:
                await response.aclose()
            if streaming:
                expected = _expected_length(response.headers)
                return Answer(status, response.headers, b"", collector.written, expected)
            return Answer(status, response.headers, collector.body())
        except httpx.RequestError as exc:  # transport failures, and bodies that fail to decode
            failure = NetworkFailure.from_cause(
                exc, timed_out=isinstance(exc, httpx.TimeoutException)
            )
        raise failure

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
