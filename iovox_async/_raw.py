"""Raw responses: the HTTP answer behind any call, with its parsed result beside it.

``await iovox.with_raw_response(iovox.calls.get_call_data, sdt=..., limit=10)`` runs
the call as usual and returns a :class:`RawResponse` whose ``parsed`` is what the
call itself returns, typed as it is typed.

How it works: :func:`with_raw_response` sets a context variable for the duration of
the wrapped call, and the transport, when it accepts a final answer, records it there
if (and only if) that variable is set. Without a capture the transport pays one
``ContextVar.get``. Tasks the wrapped call starts inherit the variable, so a bulk job
or a task group inside is seen too; tasks started elsewhere are not.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, ParamSpec, TypeVar

from ._errors import ValidationError
from ._headers import Headers

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Exchange:
    interface: str
    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    attempts: int
    elapsed: float


class Capture:
    """What one ``with_raw_response`` has seen so far (and passes on to an outer one)."""

    __slots__ = ("last", "outer", "responses")

    def __init__(self, outer: Capture | None) -> None:
        self.outer = outer
        self.last: _Exchange | None = None
        self.responses = 0

    def record(
        self,
        *,
        interface: str,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        attempts: int,
        elapsed: float,
    ) -> None:
        """Called by the transport with each answer it accepts."""
        exchange = _Exchange(interface, method, url, status, headers, body, attempts, elapsed)
        capture: Capture | None = self
        while capture is not None:
            capture.last = exchange
            capture.responses += 1
            capture = capture.outer


CAPTURE: ContextVar[Capture | None] = ContextVar("iovox_async_raw_capture", default=None)
"""Set while a :func:`with_raw_response` runs; read by the transport."""


@dataclass(frozen=True, slots=True, repr=False)
class RawResponse(Generic[T]):
    """The HTTP answer of a call, and what the call returned.

    Attributes:
        parsed: the call's own result (typed as the method is).
        status: the HTTP status of the answer.
        headers: the response headers, read-only and case-insensitive, without any
            that could hold a credential (``Set-Cookie``, ``Authorization``,
            ``secureKey``); a secure key echoed in another header reads ``***``.
        body: the body as received, after any content-encoding was undone. For a
            streamed download (``*_to_file``, ``download()``) it is ``b""``: the bytes
            went to the file, and ``parsed`` is their count.
        attempts: how many requests it took (2 when one retry succeeded).
        elapsed: seconds from the first attempt (waiting for a concurrency slot
            included) to the final answer's last byte, back-off between attempts
            included; decoding is not.
        interface: the API interface, e.g. ``"Calls"`` (``"v1"`` for REST v1).
        method: the API method, e.g. ``"getCallData"`` (the path for REST v1).
        url: the URL requested (it holds no credential: those go in headers).
        responses: how many answers the wrapped call received. A single method gives
            1; a call that makes several requests (a bulk job, a loop) gives more,
            and then every other field describes the last answer to arrive.
    """

    parsed: T
    status: int
    headers: Headers
    body: bytes
    attempts: int
    elapsed: float
    interface: str
    method: str
    url: str
    responses: int = 1

    def __repr__(self) -> str:
        tries = "attempt" if self.attempts == 1 else "attempts"
        return (
            f"<RawResponse {self.interface}.{self.method} HTTP {self.status},"
            f" {len(self.body)} bytes, {self.attempts} {tries}, {self.elapsed:.3f}s>"
        )


async def with_raw_response(
    call: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]:
    """Run ``call(*args, **kwargs)`` and return its result with the HTTP answer behind it.

    See :meth:`AsyncIovox.with_raw_response`.
    """
    if not callable(call):
        raise ValidationError(
            f"with_raw_response takes a client method, e.g. iovox.calls.get_call_data, got {call!r}"
        )
    capture = Capture(CAPTURE.get())
    token = CAPTURE.set(capture)
    try:
        pending = call(*args, **kwargs)
        if not inspect.isawaitable(pending):
            name = getattr(call, "__qualname__", repr(call))
            raise ValidationError(
                f"with_raw_response needs a call that returns an awaitable; {name} returned"
                f" {type(pending).__name__} (an iter_ method yields many pages: wrap its"
                " get_ twin for one page)"
            )
        parsed = await pending
    finally:
        CAPTURE.reset(token)
    last = capture.last
    if last is None:
        name = getattr(call, "__qualname__", repr(call))
        raise ValidationError(
            f"{name} received no API answer: with_raw_response wraps a call of this client"
            " that sends a request"
        )
    return RawResponse(
        parsed=parsed,
        status=last.status,
        headers=Headers.received(last.headers),
        body=last.body,
        attempts=last.attempts,
        elapsed=last.elapsed,
        interface=last.interface,
        method=last.method,
        url=last.url,
        responses=capture.responses,
    )
