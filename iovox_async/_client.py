"""``AsyncIovox``: settings, lifecycle, and the entry points every call goes through."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import anyio
import httpx

from . import _constants as C
from ._catalog import METHODS
from ._convert import NATIVE, PLAIN, Shape, shape_for
from ._errors import ClientClosedError, ValidationError
from ._params import build_query, check_payload, mark_raw_xml
from ._raw import RawResponse, with_raw_response
from ._redact import register_secret
from ._restv1 import RestV1
from ._spec import Endpoint, Method
from ._transport import DEFAULT_RECONCILE, Call, RetryPolicy, Transport
from ._wire import HttpxWire, TransportChoice, Wire, build_wire
from ._xml import encode_payload, to_api_text
from .interfaces import Interfaces

if TYPE_CHECKING:
    from .bulk import Bulk

_RECONCILE = {
    "purchaseVoxNumbers": (
        "Reconcile with purchase.get_order_details(...) or voxnumbers.get_voxnumbers(...)"
        " before buying again."
    ),
    "sendSms": "Check sms.get_sms_data(...) before sending it again.",
    "initiateCall": "Check calls.get_call_data(ctype='API', ...) before calling again.",
}


R = TypeVar("R")
P = ParamSpec("P")

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""Checked with ``fullmatch``: ``$`` would let a final newline through."""
_V1_PATH = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_RESERVED_PARAMS = frozenset({"v", "method"})
_KEPT_CALLS = 256
"""How many calls a client keeps built for requests that repeat exactly."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_header_value(name: str, value: str) -> None:
    """Refuse a credential that would break (or smuggle into) the HTTP headers."""
    bad = _CONTROL.search(value)
    if bad is not None:
        raise ValidationError(
            f"{name} contains a control character (U+{ord(bad.group()):04X} at position"
            f" {bad.start()}); credentials must be plain text without CR, LF or NUL"
        )


def _check_size(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"{name} must be a positive number of bytes, got {value!r}")


def _check_max_retries(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(f"max_retries must be a whole number from 0, got {value!r}")


def _running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # trio, or no loop at all
        return None


def _resolve_base_url(environment: str | None, base_url: str | None) -> str:
    if environment is not None and base_url is not None:
        raise ValidationError("pass either environment or base_url, not both")
    if base_url is None and environment is None:
        base_url = os.environ.get(C.ENV_BASE_URL) or None
        environment = os.environ.get(C.ENV_ENVIRONMENT) or None
    if base_url is not None and _CONTROL.search(base_url):
        raise ValidationError(f"base_url must not contain control characters, got {base_url!r}")
    if base_url is None:
        name = (environment or C.DEFAULT_ENVIRONMENT).lower()
        if name not in C.ENVIRONMENTS:
            choices = ", ".join(sorted(C.ENVIRONMENTS))
            raise ValidationError(
                f"unknown environment {name!r}: use one of {choices}, or base_url"
            )
        return C.ENVIRONMENTS[name]
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(f"base_url must be an http(s) URL, got {base_url!r}")
    if parts.scheme != "https" and host not in C.LOOPBACK_HOSTS:
        raise ValidationError(
            f"base_url must use https (the API refuses plain http); only loopback hosts"
            f" may use http, got {base_url!r}"
        )
    return base_url.rstrip("/")


def _rest_v1_url(base_url: str) -> str:
    """The REST v1 base of a resolved v3 base: the environment's own host, else the same
    server under ``/rest/v1`` (the emulator serves both)."""
    for name, url in C.ENVIRONMENTS.items():
        if base_url == url:
            return C.REST_V1_URLS[name]
    return base_url + C.REST_V1_PATH


class AsyncIovox(Interfaces):
    """Asyncio client for the IOVOX Enterprise REST API v3.

    Use it as ``async with AsyncIovox(...) as iovox:`` (or call :meth:`aclose`), and
    reach every method as ``await iovox.<interface>.<method>(...)``, e.g.
    ``await iovox.calls.get_call_data(sdt=...)``. Credentials and the environment
    fall back to ``IOVOX_USERNAME``, ``IOVOX_SECURE_KEY``, ``IOVOX_ENVIRONMENT`` and
    ``IOVOX_BASE_URL``.

    Args:
        username: the API username.
        secure_key: the secure key (never shown in reprs, logs or errors). Whitespace
            around it (a trailing newline from a key file) is stripped; a key or
            username with a control character inside is refused.
        environment: ``"sandbox"`` (default) or ``"production"``.
        base_url: any other server, e.g. the local emulator; plain http only on loopback.
        max_concurrency: requests in flight at once; the connection pool matches it.
        max_retries: retries after the first attempt for calls that are safe to repeat.
        timeout: seconds one request may take, start to last byte (connect is capped
            at 10 s). A download's body may run longer while it averages at least
            16 KiB/s, with no gap between bytes longer than ``timeout``.
        retry_deadline: a hard total of seconds one call may spend across attempts
            and back-off; the last attempt gets only what is left of it.
        max_response_bytes: the largest document body read (after decompression);
            a larger one raises ``ResponseDecodeError``. Default 64 MiB.
        max_recording_bytes: the same for recordings and other binary bodies.
            Default 1 GiB.
        http_client: an ``httpx.AsyncClient`` to use as given; it is never closed by us.
        transport: ``"auto"`` (aiohttp-backed on asyncio, httpx's own under trio),
            ``"aiohttp"`` or ``"httpx"``.
        proxy: an HTTP(S)/SOCKS proxy URL, e.g. to reach the API from an allow-listed host.
    """

    def __init__(
        self,
        username: str | None = None,
        secure_key: str | None = None,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        max_concurrency: int = C.DEFAULT_MAX_CONCURRENCY,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        timeout: float = C.DEFAULT_TIMEOUT,
        retry_deadline: float = C.RETRY_DEADLINE,
        http_client: httpx.AsyncClient | None = None,
        transport: TransportChoice = "auto",
        proxy: str | None = None,
        max_response_bytes: int = C.DEFAULT_MAX_RESPONSE_BYTES,
        max_recording_bytes: int = C.DEFAULT_MAX_RECORDING_BYTES,
    ) -> None:
        username = username or os.environ.get(C.ENV_USERNAME)
        secure_key = (secure_key or os.environ.get(C.ENV_SECURE_KEY) or "").strip()
        if not username:
            raise ValidationError(f"username is required (argument or {C.ENV_USERNAME})")
        if not secure_key:
            raise ValidationError(f"secure_key is required (argument or {C.ENV_SECURE_KEY})")
        register_secret(secure_key)  # before any message could quote it
        _check_header_value("username", username)
        _check_header_value("secure_key", secure_key)
        _check_size("max_response_bytes", max_response_bytes)
        _check_size("max_recording_bytes", max_recording_bytes)
        if max_concurrency < 1:
            raise ValidationError("max_concurrency must be at least 1")
        _check_max_retries(max_retries)
        for name, seconds in (("timeout", timeout), ("retry_deadline", retry_deadline)):
            if seconds <= 0:
                raise ValidationError(f"{name} must be positive, got {seconds!r}")
        if transport not in ("auto", "aiohttp", "httpx"):
            raise ValidationError("transport must be 'auto', 'aiohttp' or 'httpx'")
        self.username = username
        self.base_url = _resolve_base_url(environment, base_url)
        self.rest_v1_url = _rest_v1_url(self.base_url)
        """Base URL of the REST v1 endpoints that :meth:`request_v1` reaches."""
        self.max_concurrency = max_concurrency
        self._wire: Wire | None = (
            None if http_client is None else HttpxWire(http_client, owned=False)
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport_choice: TransportChoice = transport
        self._proxy = proxy
        self._closed = False
        self._calls: dict[tuple[object, ...], Call] = {}
        self._transport = Transport(
            base_url=self.base_url,
            username=username,
            secure_key=secure_key,
            get_wire=self._get_wire,
            limiter=anyio.CapacityLimiter(max_concurrency),
            timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries, deadline=retry_deadline),
            max_response_bytes=max_response_bytes,
            max_recording_bytes=max_recording_bytes,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncIovox username={self.username!r} base_url={self.base_url!r} {state}>"

    # -- lifecycle --------------------------------------------------------------------

    def _get_wire(self) -> Wire:
        if self._closed:
            raise ClientClosedError("this AsyncIovox client is closed; create a new one")
        wire = self._wire
        if wire is not None:
            if self._loop is not None and _running_asyncio_loop() is not self._loop:
                raise ClientClosedError(
                    "this AsyncIovox client was first used in another event loop, whose"
                    " connections cannot be reused here; create one client per event loop"
                )
            return wire
        # Built on first use, inside the running event loop, so the transport matches
        # the loop (aiohttp on asyncio, httpx's own under trio).
        self._loop = _running_asyncio_loop()
        self._wire = build_wire(self._transport_choice, self.max_concurrency, self._proxy)
        return self._wire

    @cached_property
    def bulk(self) -> Bulk:
        """Bulk jobs: every CDR of a range, recordings to disk, purchases, a bounded map."""
        from .bulk import Bulk  # imported on first use: most callers never need it

        return Bulk(self)

    @cached_property
    def rest_v1(self) -> RestV1:
        """The REST v1 platform's documented endpoints: ``rest_v1.calls_insights(...)``."""
        return RestV1(self)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def retries_taken(self) -> int:
        """Retries made since the client was created (every attempt after a first one)."""
        return self._transport.retries_taken

    async def aclose(self) -> None:
        """Close the connection pool (an injected ``http_client`` is left open)."""
        if self._closed:
            return
        self._closed = True
        wire, self._wire = self._wire, None
        if wire is not None:
            await wire.aclose()

    async def __aenter__(self) -> AsyncIovox:
        if self._closed:
            raise ClientClosedError("this AsyncIovox client is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_concurrency: int | None = None,
    ) -> AsyncIovox:
        """This client with other settings, sharing its connection pool.

        ``iovox.with_options(timeout=5, max_retries=0).calls.get_call_data(...)``: each
        setting left out keeps this client's value. ``max_concurrency`` can only narrow
        (at most this client's): the view's requests also count against this client's
        limit. Closing the view leaves this client and its pool open; closing this
        client ends its views too. Views are cheap; make one wherever it reads well.
        """
        from ._options import client_view

        return client_view(
            self, timeout=timeout, max_retries=max_retries, max_concurrency=max_concurrency
        )

    async def with_raw_response(
        self, call: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[R]:
        """Run a call and return the HTTP answer behind it, with its result as ``parsed``.

        ``raw = await iovox.with_raw_response(iovox.calls.get_call_data, sdt=..., limit=10)``
        gives ``raw.status``, ``raw.headers``, ``raw.body``, ``raw.attempts``,
        ``raw.elapsed`` and ``raw.parsed``, typed as the method's own result. Any
        coroutine of this client fits: generated methods, ``request()``,
        ``request_v1()``, ``download()``, the methods of a ``with_options`` view. A
        call that makes several requests (a bulk job) gives the last answer to
        arrive, and ``raw.responses`` says how many there were. An error raises as
        it would without the wrapper; it carries the same fields (see ``APIError``).
        """
        return await with_raw_response(call, *args, **kwargs)

    # -- every call is built here ----------------------------------------------------

    def _new_call(
        self,
        method: Method | None,
        *,
        interface: str,
        name: str,
        verb: str,
        params: tuple[tuple[str, str], ...],
        content: bytes | None,
        idempotent: bool,
        timeout: float | None,
        max_retries: int | None,
        shape: Shape,
        endpoint: str | None = None,
    ) -> Call:
        """The one place a :class:`Call` is made, for raw and generated calls alike."""
        if self._closed:
            raise ClientClosedError("this AsyncIovox client is closed; create a new one")
        _check_max_retries(max_retries)
        kind = method.response_kind if method is not None else None
        return Call(
            interface=interface,
            method=name,
            http_method=verb,
            params=params,
            content=content,
            idempotent=idempotent,
            timeout=timeout if timeout is not None else (method.timeout if method else None),
            max_retries=max_retries,
            shape=shape,
            expect_binary=kind == "binary",
            expect_body=kind == "xml",
            reconcile=_RECONCILE.get(name, DEFAULT_RECONCILE),
            endpoint=endpoint,
        )

    def _raw_call(
        self,
        interface: str,
        method: str,
        params: Mapping[str, Any] | None,
        payload: Mapping[str, Any] | None,
        http_method: str,
        idempotent: bool | None,
        timeout: float | None,
        max_retries: int | None,
        endpoint: str | None = None,
    ) -> Call:
        # A call without arguments is the same Call every time: built and checked once.
        key: tuple[object, ...] | None = None
        if not params and payload is None and endpoint is None:
            key = ("raw", interface, method, http_method, idempotent, timeout, max_retries)
            try:
                cached = self._calls.get(key)
            except TypeError:  # unhashable names: the checks below say what is wrong
                cached = key = None
            if cached is not None:
                return self._reused(cached)
        verb = http_method.upper()
        if verb not in ("GET", "POST", "PUT", "DELETE"):
            raise ValidationError(
                f"http_method must be GET, POST, PUT or DELETE, got {http_method!r}"
            )
        # A REST v1 call names its endpoint by path (checked by request_v1), not by method.
        names = (
            (("interface", interface),)
            if endpoint
            else (("interface", interface), ("method", method))
        )
        for label, name in names:
            if not isinstance(name, str) or not _API_NAME.fullmatch(name):
                raise ValidationError(f"{label} must be an API name like 'Calls', got {name!r}")
        reserved = sorted(_RESERVED_PARAMS.intersection(params)) if params and not endpoint else ()
        if reserved:
            # A second ``method=`` would leave the server to pick which method runs.
            raise ValidationError(f"params must not set {', '.join(reserved)}: the client sets it")
        if payload is not None and verb in ("GET", "DELETE"):
            raise ValidationError(f"{verb} requests take no payload; use params")
        known = None if endpoint else METHODS.get(interface, {}).get(method)
        pairs: list[tuple[str, str]] = []
        for name, value in (params or {}).items():
            if value is None:
                continue
            if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
                value = ",".join(to_api_text(item) for item in value)
            pairs.append((name, to_api_text(value)))
        call = self._new_call(
            known,
            interface=interface,
            name=method,
            verb=verb,
            params=tuple(pairs),
            content=None if payload is None else encode_payload(payload),
            idempotent=(verb != "POST") if idempotent is None else idempotent,
            timeout=timeout,
            max_retries=max_retries,
            # Raw calls keep the text as sent: lists are forced, values not converted.
            shape=NATIVE if endpoint else PLAIN if known is None else shape_for(known, typed=False),
            endpoint=endpoint,
        )
        return call if key is None else self._keep(key, call)

    def _reused(self, call: Call) -> Call:
        if self._closed:
            raise ClientClosedError("this AsyncIovox client is closed; create a new one")
        return call

    def _keep(self, key: tuple[object, ...], call: Call) -> Call:
        """Keep ``call`` for the next identical request (calls are never changed)."""
        if len(self._calls) >= _KEPT_CALLS:  # raw calls may name anything
            self._calls.clear()
        self._calls[key] = call
        return call

    async def request(
        self,
        interface: str,
        method: str,
        *,
        params: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
        http_method: str = "GET",
        idempotent: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> dict[str, Any] | bytes:
        """Call any method, documented or not: ``await iovox.request("Calls", "getCallData")``.

        ``params`` go to the query string (lists joined with commas, ``True`` as
        ``TRUE``, dates formatted); ``payload`` becomes the ``<request>`` XML body of a
        POST or PUT. Returns the decoded body (the content of ``<response>``), ``{}``
        for an empty 201/204, or ``bytes`` for binary responses. ``idempotent`` defaults
        to True except for POST; a non-idempotent call is retried only when it
        provably never reached the server.
        """
        call = self._raw_call(
            interface, method, params, payload, http_method, idempotent, timeout, max_retries
        )
        return await self._transport.send(call)

    async def request_v1(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        http_method: str = "GET",
        idempotent: bool | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> dict[str, Any] | bytes:
        """Call an endpoint of the REST v1 platform: ``await iovox.request_v1("calls/insights")``.

        The v1 endpoints (call insights) live on their own host
        (``https://sandbox-rest.iovox.com/rest/v1``, ``https://rest.iovox.com/rest/v1``;
        with ``base_url`` the same server under ``/rest/v1``, see :attr:`rest_v1_url`)
        and take the same credentials, retries and error handling as :meth:`request`.
        ``params`` are formatted the same way; no v3 ``v``/``method`` is added. Returns
        the decoded body (a JSON object as dicts). The v1 parameters are not checked:
        see docs/design.md for those ``calls/insights`` documents.
        """
        if not isinstance(path, str) or not _V1_PATH.fullmatch(path.strip("/")):
            raise ValidationError(f"path must be a v1 path like 'calls/insights', got {path!r}")
        path = path.strip("/")
        call = self._raw_call(
            "v1",
            path,
            params,
            None,
            http_method,
            idempotent,
            timeout,
            max_retries,
            endpoint=f"{self.rest_v1_url}/{path}",
        )
        return await self._transport.send(call)

    async def download(
        self,
        interface: str,
        method: str,
        destination: str | os.PathLike[str],
        *,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> int:
        """Stream a binary GET response to a file; returns the number of bytes written.

        The file appears only when complete: the body goes to a temporary file that
        is size-checked and renamed into place.
        """
        call = self._raw_call(interface, method, params, None, "GET", True, timeout, max_retries)
        return await self._transport.download(call, Path(destination))

    # -- generated interfaces call these ----------------------------------------------

    def _spec_call(
        self,
        method: Method,
        query: Mapping[str, object],
        payload: Mapping[str, Any] | None,
        timeout: float | None,
        max_retries: int | None = None,
        idempotent: bool | None = None,
    ) -> Call:
        params = tuple(build_query(method, query))
        key = None
        if payload is None:  # the same query again (a poll, a page re-read): the same Call
            # Catalog methods live as long as the process, so their ids stay their own.
            key = (id(method), params, timeout, max_retries, idempotent)
            cached = self._calls.get(key)
            if cached is not None and cached.method == method.name:
                return self._reused(cached)
        payload = mark_raw_xml(method, payload)
        check_payload(method, payload)
        call = self._new_call(
            method,
            interface=method.interface,
            name=method.name,
            verb=method.http,
            params=params,
            content=encode_payload(payload) if method.payload is not None and payload else None,
            idempotent=method.idempotent or bool(idempotent),
            timeout=timeout,
            max_retries=max_retries,
            shape=shape_for(method),
        )
        return call if key is None else self._keep(key, call)

    def _invoke(
        self,
        endpoint: Endpoint[R],
        query: Mapping[str, object],
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        idempotent: bool | None = None,
    ) -> Awaitable[R]:
        """Check one call of a generated coroutine and return its sending, for the
        coroutine to await (no coroutine of its own: one frame less per call).
        ``endpoint`` carries the return type."""
        call = self._spec_call(endpoint.method, query, payload, timeout, max_retries, idempotent)
        # The shape built from the same spec as the type gives the data that type states.
        return cast("Awaitable[R]", self._transport.send(call))

    def _invoke_as(
        self, method: Method, query: Mapping[str, object], shape: Shape
    ) -> Awaitable[dict[str, Any]]:
        """A call of ``method``, checked as its generated coroutine checks it, whose
        body decodes by ``shape`` instead (the bulk engine's own decodings)."""
        call = self._spec_call(method, query, None, None)
        answer = self._transport.send(dataclasses.replace(call, shape=shape))
        return cast("Awaitable[dict[str, Any]]", answer)

    async def _invoke_to_file(
        self,
        endpoint: Endpoint[bytes],
        query: Mapping[str, object],
        destination: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        idempotent: bool | None = None,
    ) -> int:
        call = self._spec_call(endpoint.method, query, None, timeout, max_retries, idempotent)
        return await self._transport.download(call, Path(destination))
