"""``AsyncIovox.with_options``: the same client with other settings, on the same connections.

A view shares its parent's connection pool (the one wire, built on first use by
whichever of them calls first), credentials and base URL. It has its own timeout,
retry count, retry counter and, when given, its own ``max_concurrency``: a view's
request then holds a slot of the view's limiter *and* of the parent's, so a view can
narrow the concurrency but the client as a whole never exceeds its pool.

Closing a view closes the view only (its calls then raise ``ClientClosedError``); the
pool belongs to the parent and closes with it, which also ends every view.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import cached_property

import anyio

from ._client import AsyncIovox, _check_max_retries
from ._errors import ClientClosedError, ValidationError
from ._wire import Answer, Sink, Timeouts, Wire


class _LimitedWire:
    """The parent's wire, entered through the parent's limiter; closing it closes nothing."""

    def __init__(self, get_wire: Callable[[], Wire], limiter: anyio.CapacityLimiter) -> None:
        self._get_wire = get_wire
        self._limiter = limiter

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
        async with self._limiter:
            return await self._get_wire().exchange(method, url, headers, body, t, sink, limit)

    async def aclose(self) -> None:
        return None  # the pool is the parent's

    @property
    def bounds_total(self) -> bool:
        return self._get_wire().bounds_total


class ClientView(AsyncIovox):
    """An :class:`AsyncIovox` made by :meth:`AsyncIovox.with_options`."""

    _parent: AsyncIovox
    _parent_wire: Callable[[], Wire]

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"<AsyncIovox view username={self.username!r} base_url={self.base_url!r}"
            f" max_concurrency={self.max_concurrency} {state}>"
        )

    def _get_wire(self) -> Wire:
        if self._closed:
            raise ClientClosedError(
                "this client view is closed (its parent client is not); make another with"
                " with_options()"
            )
        return self._parent_wire()

    @property
    def closed(self) -> bool:
        return self._closed or self._parent.closed

    async def aclose(self) -> None:
        """Close this view only; the connection pool stays open for the parent."""
        self._closed = True


def _check_timeout(timeout: object) -> None:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValidationError(f"timeout must be a positive number of seconds, got {timeout!r}")


def _check_concurrency(value: object, ceiling: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"max_concurrency must be a whole number from 1, got {value!r}")
    if value > ceiling:
        raise ValidationError(
            f"max_concurrency of a view cannot exceed its client's ({ceiling}): they share"
            f" one connection pool of that size; got {value}"
        )


def client_view(
    parent: AsyncIovox,
    *,
    timeout: float | None,
    max_retries: int | None,
    max_concurrency: int | None,
) -> ClientView:
    """A view of ``parent`` with the settings given (``None`` keeps the parent's)."""
    if parent.closed:
        raise ClientClosedError("this AsyncIovox client is closed; create a new one")
    if timeout is not None:
        _check_timeout(timeout)
    _check_max_retries(max_retries)
    if max_concurrency is not None:
        _check_concurrency(max_concurrency, parent.max_concurrency)
    view = object.__new__(ClientView)
    cached = {
        name
        for klass in type(parent).__mro__
        for name, member in vars(klass).items()
        if isinstance(member, cached_property)
    }
    # Settings and state as the parent has them; the interfaces and bulk are rebuilt
    # for the view on first use.
    view.__dict__.update({k: v for k, v in vars(parent).items() if k not in cached})
    view._parent = parent
    view._closed = False
    view._wire = None
    transport = parent._transport
    if max_concurrency is None:
        view._parent_wire = parent._get_wire
        limiter = transport.limiter
    else:
        limited = _LimitedWire(parent._get_wire, transport.limiter)
        view._parent_wire = lambda: limited
        view.max_concurrency = max_concurrency
        limiter = anyio.CapacityLimiter(max_concurrency)
    view._transport = transport.derive(
        get_wire=view._get_wire, limiter=limiter, timeout=timeout, max_retries=max_retries
    )
    return view
