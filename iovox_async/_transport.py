"""The one place that sends requests.

Auth headers, ``?v=3&method=X``, the concurrency limiter (held only while a request
is in flight, never while backing off), the retry loop, streaming to files, and
one debug log line per attempt. It knows nothing about any one method: a
:class:`Call` carries everything method-specific.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

import anyio
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from . import _constants as C
from ._convert import PLAIN, Shape
from ._decode import decode_body
from ._errors import (
    APIError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    error_class_for,
)
from ._files import create_for_writing, discard, temporary_path
from ._retry import RETRYABLE_STATUSES, backoff_delay, parse_retry_after
from ._wire import Answer, NetworkFailure, Timeouts, Wire
from ._xml import excerpt, parse_error_items

logger = logging.getLogger("iovox_async")

T = TypeVar("T")

DEFAULT_RECONCILE = "Check the account's current state before sending it again."


def _timeouts(seconds: float) -> Timeouts:
    return Timeouts(read=seconds, connect=min(seconds, C.DEFAULT_CONNECT_TIMEOUT))


@dataclass(frozen=True, slots=True)
class Call:
    """Everything the transport needs to send one API call."""

    interface: str
    method: str
    http_method: str = "GET"
    params: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None
    idempotent: bool = True
    timeout: float | None = None
    max_retries: int | None = None
    shape: Shape = PLAIN
    """How the body decodes: lists, value types (see ``_convert``)."""
    expect_binary: bool = False
    expect_body: bool = False
    """The method always answers with a document: an empty 200 is an error."""
    reconcile: str = DEFAULT_RECONCILE
    endpoint: str | None = None
    """The full URL of an endpoint outside ``/{Interface}?v=3`` (REST v1); params follow."""


@dataclass
class RetryPolicy:
    """How many times and how long to retry."""

    max_retries: int = C.DEFAULT_MAX_RETRIES
    base_delay: float = C.RETRY_BASE_DELAY
    max_delay: float = C.RETRY_MAX_DELAY
    max_retry_after: float = C.RETRY_MAX_RETRY_AFTER
    deadline: float = C.RETRY_DEADLINE
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    clock: Callable[[], float] = time.monotonic


class Transport:
    """Sends :class:`Call` objects over one :class:`~._wire.Wire`."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        secure_key: str,
        get_wire: Callable[[], Wire],
        limiter: anyio.CapacityLimiter,
        timeout: float,
        policy: RetryPolicy,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"username": username, "secureKey": secure_key}
        self._xml_headers = {**self._headers, "Content-Type": "application/xml; charset=utf-8"}
        self._get_wire = get_wire
        self.limiter = limiter
        self._timeouts = _timeouts(timeout)
        self.policy = policy
        self.retries_taken = 0
        """Retries made by this transport since it was created (for reports)."""

    def derive(
        self,
        *,
        get_wire: Callable[[], Wire],
        limiter: anyio.CapacityLimiter,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Transport:
        """A transport with these credentials and URL but its own wire getter, limiter,
        settings and retry counter (for ``AsyncIovox.with_options``)."""
        derived = copy.copy(self)
        derived._get_wire = get_wire
        derived.limiter = limiter
        if timeout is not None:
            derived._timeouts = _timeouts(timeout)
        if max_retries is not None:
            derived.policy = dataclasses.replace(self.policy, max_retries=max_retries)
        derived.retries_taken = 0
        return derived

    # -- public entry points ----------------------------------------------------------

    async def send(self, call: Call) -> dict[str, Any] | bytes:
        """Send a call and return its decoded body."""
        url = self._url(call)
        answer = await self._with_retries(call, lambda n: self._send_once(call, url, n))
        if call.expect_body and answer.status == 200 and not answer.body.strip():
            raise ResponseDecodeError(
                f"{call.interface}.{call.method} answered HTTP 200 with an empty body"
            )
        return await decode_body(
            answer.body,
            answer.headers.get("content-type"),
            shape=call.shape,
            expect_binary=call.expect_binary,
        )

    async def download(self, call: Call, destination: Path) -> int:
        """Stream a binary response into ``destination``; return the bytes written.

        The body goes to a temporary file beside the destination, is checked against
        Content-Length, and is renamed into place only when complete. On any failure
        or cancellation the temporary file is removed and nothing is left behind.
        """
        destination = Path(destination)
        temporary = temporary_path(destination)
        url = self._url(call)
        placed = False
        try:
            size = await self._with_retries(
                call, lambda n: self._stream_once(call, url, temporary, n)
            )
            os.replace(temporary, destination)
            placed = True
            return size
        finally:
            if not placed:
                discard(temporary)

    # -- one attempt ------------------------------------------------------------------

    def _url(self, call: Call) -> str:
        if call.endpoint is not None:
            query = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in call.params)
            return call.endpoint + ("?" + query if query else "")
        parts = [self._base_url, "/", call.interface, "?v=", C.API_VERSION]
        parts += ("&method=", quote(call.method, safe=""))
        for name, value in call.params:
            parts += ("&", quote(name, safe=""), "=", quote(value, safe=""))
        return "".join(parts)

    def _call_timeouts(self, call: Call) -> Timeouts:
        return self._timeouts if call.timeout is None else _timeouts(call.timeout)

    async def _send_once(
        self, call: Call, url: str, attempt: int, sink: IO[bytes] | None = None
    ) -> Answer:
        headers = self._headers if call.content is None else self._xml_headers
        started = time.perf_counter()
        limiter = self.limiter
        try:
            # A free slot is taken without ``async with``'s extra trip through the loop.
            limiter.acquire_nowait()
        except anyio.WouldBlock:
            await limiter.acquire()
        try:
            wire = self._get_wire()  # after the wait: the client may have closed meanwhile
            answer = await wire.exchange(
                call.http_method, url, headers, call.content, self._call_timeouts(call), sink
            )
        except NetworkFailure as failure:
            self._log(call, attempt, None, started, failure.cause)
            raise
        finally:
            limiter.release()
        self._log(call, attempt, answer.status, started)
        if not 200 <= answer.status < 300:
            # 3xx too: a redirect (a proxy, a moved endpoint) never ran the method.
            self._raise_for_status(call, answer)
        return answer

    async def _stream_once(self, call: Call, url: str, temporary: Path, attempt: int) -> int:
        # Creating a file can block for a millisecond on a busy disk: not on the loop.
        # If a cancellation lands meanwhile, ``download`` still removes the file.
        sink = await anyio.to_thread.run_sync(create_for_writing, temporary)
        with sink:
            answer = await self._send_once(call, url, attempt, sink)
        if answer.expected is not None and answer.expected != answer.written:
            # A short body is a dropped transfer: safe to fetch again.
            short = f"body ended after {answer.written} of {answer.expected} bytes"
            raise NetworkFailure(httpx.ReadError(short))
        return answer.written

    def _raise_for_status(self, call: Call, answer: Answer) -> None:
        status, body = answer.status, answer.body
        items = parse_error_items(body)
        error_class = error_class_for(status)
        retry_after = None
        if status == 429:
            retry_after = parse_retry_after(answer.headers.get("retry-after"))
        raise error_class(
            status,
            items or [],
            interface=call.interface,
            method=call.method,
            excerpt=None if items else (excerpt(body, C.ERROR_EXCERPT_CHARS) or None),
            retry_after=retry_after,
        )

    def _log(
        self,
        call: Call,
        attempt: int,
        status: int | None,
        started: float,
        exc: BaseException | None = None,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        elapsed = time.perf_counter() - started
        outcome = f"HTTP {status}" if exc is None else f"failed ({type(exc).__name__})"
        logger.debug(
            "%s %s.%s attempt %d: %s in %.3fs",
            call.http_method,
            call.interface,
            call.method,
            attempt,
            outcome,
            elapsed,
        )

    # -- retries ----------------------------------------------------------------------

    def _may_retry(self, call: Call, exc: BaseException) -> bool:
        if isinstance(exc, NetworkFailure):
            return call.idempotent or exc.never_sent
        if isinstance(exc, APIError) and exc.status in RETRYABLE_STATUSES:
            return call.idempotent
        return False

    def _wait(self, retry_state: RetryCallState) -> float:
        policy = self.policy
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            # Honour the server's wait, plus a little jitter so clients do not stampede.
            return min(exc.retry_after, policy.max_retry_after) + policy.rng.uniform(
                0, policy.base_delay
            )
        return backoff_delay(
            retry_state.attempt_number,
            base=policy.base_delay,
            cap=policy.max_delay,
            rng=policy.rng,
        )

    async def _with_retries(self, call: Call, attempt: Callable[[int], Awaitable[T]]) -> T:
        started = self.policy.clock()
        try:
            return await attempt(1)
        except (NetworkFailure, APIError) as failure:
            first_failure: NetworkFailure | APIError = failure
        # Only a failed first attempt pays for building tenacity's retry machinery.
        try:
            return await self._retry_after(call, attempt, first_failure, started)
        except NetworkFailure as failure:
            raise self._final_network_error(call, failure, failure.attempts) from failure.cause
        except APIError as error:
            error.args = (error._describe(),)
            if isinstance(error, ServerError) and not call.idempotent:
                raise OutcomeUnknownError(
                    call.interface,
                    call.method,
                    f"the server answered HTTP {error.status}",
                    call.reconcile,
                ) from error
            raise

    async def _retry_after(
        self,
        call: Call,
        attempt: Callable[[int], Awaitable[T]],
        first_failure: NetworkFailure | APIError,
        started: float,
    ) -> T:
        """Tenacity's loop, whose first attempt replays the failure already seen."""
        policy = self.policy
        retries = policy.max_retries if call.max_retries is None else call.max_retries

        def count_retry(state: RetryCallState) -> None:
            self.retries_taken += 1
            if logger.isEnabledFor(logging.INFO):
                failed = state.outcome.exception() if state.outcome is not None else None
                why = f"HTTP {failed.status}" if isinstance(failed, APIError) else "network failure"
                logger.info(
                    "%s.%s: retry %d of %d in %.2fs after %s",
                    call.interface,
                    call.method,
                    state.attempt_number,
                    retries,
                    state.upcoming_sleep or 0.0,
                    why,
                )

        def out_of_budget(state: RetryCallState) -> bool:
            # Stop when the next back-off would end past the call's total deadline.
            if state.attempt_number > retries:
                return True
            return policy.clock() - started + (state.upcoming_sleep or 0.0) > policy.deadline

        retrying = AsyncRetrying(
            stop=out_of_budget,
            wait=self._wait,
            retry=retry_if_exception(lambda exc: self._may_retry(call, exc)),
            sleep=policy.sleep,
            before_sleep=count_retry,
            reraise=True,
        )
        number = 0
        try:
            async for state in retrying:
                number = state.retry_state.attempt_number
                with state:
                    if number == 1:
                        raise first_failure
                    return await attempt(number)
        except (NetworkFailure, APIError) as failure:
            failure.attempts = number
            raise
        raise AssertionError("unreachable: tenacity neither returned nor raised")

    def _final_network_error(self, call: Call, failure: NetworkFailure, attempts: int) -> Exception:
        if not call.idempotent and not failure.never_sent:
            return OutcomeUnknownError(
                call.interface,
                call.method,
                f"the connection failed after the request was sent: {failure}",
                call.reconcile,
            )
        kind = "timed out" if failure.timed_out else "failed"
        return TransportError(
            f"request {kind}: {failure}",
            interface=call.interface,
            method=call.method,
            attempts=attempts,
        )


__all__ = ["Call", "RetryPolicy", "Transport"]
