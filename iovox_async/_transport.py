"""The one place that sends requests.

Auth headers, ``?v=3&method=X``, the concurrency limiter (held only while a request
is in flight, never while backing off), the retry loop, streaming to files, and
one debug log line per attempt. It knows nothing about any one method: a
:class:`Call` carries everything method-specific.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from . import _constants as C
from ._decode import decode_body
from ._errors import (
    APIError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    error_class_for,
)
from ._retry import RETRYABLE_STATUSES, backoff_delay, never_sent, parse_retry_after
from ._spec import ElementSpec
from ._xml import excerpt, parse_error_items

logger = logging.getLogger("iovox_async")

T = TypeVar("T")

DEFAULT_RECONCILE = "Check the account's current state before sending it again."


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
    force_list: frozenset[str] = frozenset()
    elements: tuple[ElementSpec, ...] = ()
    expect_binary: bool = False
    reconcile: str = DEFAULT_RECONCILE


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


class _NetworkFailure(Exception):
    """An attempt that failed below HTTP; ``never_sent`` says whether it is safe to repeat."""

    def __init__(self, cause: httpx.TransportError) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)
        self.cause = cause
        self.never_sent = never_sent(cause)


class Transport:
    """Sends :class:`Call` objects through one pooled ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        secure_key: str,
        get_client: Callable[[], httpx.AsyncClient],
        limiter: anyio.CapacityLimiter,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"username": username, "secureKey": secure_key}
        self._get_client = get_client
        self.limiter = limiter
        self._timeout = timeout
        self.policy = policy
        self.retries_taken = 0
        """Retries made by this transport since it was created (for reports)."""

    # -- public entry points ----------------------------------------------------------

    async def send(self, call: Call) -> dict[str, Any] | bytes:
        """Send a call and return its decoded body."""

        async def attempt(number: int) -> tuple[bytes, str | None]:
            response = await self._send_once(call, number)
            return response.content, response.headers.get("content-type")

        body, content_type = await self._with_retries(call, attempt)
        return await decode_body(
            body,
            content_type,
            force_list=call.force_list,
            elements=call.elements,
            expect_binary=call.expect_binary,
        )

    async def download(self, call: Call, destination: Path) -> int:
        """Stream a binary response into ``destination``; return the bytes written.

        The body goes to a temporary file beside the destination, is checked against
        Content-Length, and is renamed into place only when complete. On any failure
        or cancellation the temporary file is removed and nothing is left behind.
        """
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.part")
        try:
            size = await self._with_retries(call, lambda n: self._stream_once(call, temporary, n))
            os.replace(temporary, destination)
            return size
        finally:
            if temporary.exists():
                temporary.unlink()

    # -- one attempt ------------------------------------------------------------------

    def _request(self, call: Call, client: httpx.AsyncClient) -> httpx.Request:
        headers = dict(self._headers)
        if call.content is not None:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("v", C.API_VERSION),
            ("method", call.method),
            *call.params,
        ]
        timeout = (
            self._timeout
            if call.timeout is None
            else httpx.Timeout(call.timeout, connect=min(call.timeout, C.DEFAULT_CONNECT_TIMEOUT))
        )
        return client.build_request(
            call.http_method,
            f"{self._base_url}/{call.interface}",
            params=params,
            headers=headers,
            content=call.content,
            extensions={"timeout": timeout.as_dict()},
        )

    async def _send_once(self, call: Call, attempt: int) -> httpx.Response:
        client = self._get_client()
        request = self._request(call, client)
        started = time.perf_counter()
        async with self.limiter:
            try:
                response = await client.send(request)
            except httpx.TransportError as exc:
                self._log(call, attempt, None, started, exc)
                raise _NetworkFailure(exc) from exc
        self._log(call, attempt, response.status_code, started)
        if response.status_code >= 400:
            self._raise_for_status(call, response.status_code, response.content, response.headers)
        return response

    async def _stream_once(self, call: Call, temporary: Path, attempt: int) -> int:
        client = self._get_client()
        request = self._request(call, client)
        started = time.perf_counter()
        written = 0
        async with self.limiter:
            try:
                response = await client.send(request, stream=True)
                try:
                    if response.status_code >= 400:
                        body = await response.aread()
                        self._log(call, attempt, response.status_code, started)
                        self._raise_for_status(call, response.status_code, body, response.headers)
                    with temporary.open("wb") as handle:
                        async for chunk in response.aiter_bytes(C.STREAM_CHUNK_SIZE):
                            handle.write(chunk)
                            written += len(chunk)
                    expected = response.headers.get("content-length")
                    if response.headers.get("content-encoding", "identity") != "identity":
                        expected = None  # the length counts encoded bytes, not these
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                self._log(call, attempt, None, started, exc)
                raise _NetworkFailure(exc) from exc
        self._log(call, attempt, response.status_code, started)
        if expected is not None and expected.isdigit() and int(expected) != written:
            # A short body is a dropped transfer: safe to fetch again.
            raise _NetworkFailure(
                httpx.ReadError(f"body ended after {written} of {expected} bytes")
            )
        return written

    def _raise_for_status(
        self, call: Call, status: int, body: bytes, headers: httpx.Headers
    ) -> None:
        items = parse_error_items(body)
        error_class = error_class_for(status)
        retry_after = parse_retry_after(headers.get("retry-after")) if status == 429 else None
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
        if isinstance(exc, _NetworkFailure):
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
        policy = self.policy
        retries = policy.max_retries if call.max_retries is None else call.max_retries
        attempts = 0

        def count_retry(_: RetryCallState) -> None:
            self.retries_taken += 1

        started = policy.clock()

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
        try:
            async for state in retrying:
                attempts = state.retry_state.attempt_number
                with state:
                    return await attempt(attempts)
        except _NetworkFailure as failure:
            raise self._final_network_error(call, failure, attempts) from failure.cause
        except APIError as error:
            error.attempts = attempts
            error.args = (error._describe(),)
            if isinstance(error, ServerError) and not call.idempotent:
                raise OutcomeUnknownError(
                    call.interface,
                    call.method,
                    f"the server answered HTTP {error.status}",
                    call.reconcile,
                ) from error
            raise
        raise AssertionError("unreachable: tenacity neither returned nor raised")

    def _final_network_error(
        self, call: Call, failure: _NetworkFailure, attempts: int
    ) -> Exception:
        if not call.idempotent and not failure.never_sent:
            return OutcomeUnknownError(
                call.interface,
                call.method,
                f"the connection failed after the request was sent: {failure}",
                call.reconcile,
            )
        kind = "timed out" if isinstance(failure.cause, httpx.TimeoutException) else "failed"
        return TransportError(
            f"request {kind}: {failure}",
            interface=call.interface,
            method=call.method,
            attempts=attempts,
        )


__all__ = ["Call", "RetryPolicy", "Transport"]
