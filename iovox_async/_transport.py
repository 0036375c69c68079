"""The one place that sends requests.

Auth headers, ``?v=3&method=X``, the concurrency limiter (held only while a request
is in flight, never while backing off), the retry loop, the time and size bounds,
streaming to files, and one debug log line per attempt. It knows nothing about any
one method: a :class:`Call` carries everything method-specific.

Time: each attempt runs in a cancel scope of ``timeout`` seconds (or what is left
of ``retry_deadline``, whichever is shorter), so a server trickling bytes cannot
hold a call or a limiter slot for longer. A download's body may run past that at
``DOWNLOAD_MIN_RATE`` (see ``_constants``).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
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
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
)

from . import _constants as C
from ._convert import PLAIN, ResponseValueError, Shape
from ._decode import ErrorDocument, decode_body
from ._errors import (
    APIError,
    ErrorItem,
    OutcomeUnknownError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
    error_class_for,
    json_error_items,
)
from ._files import create_for_writing, discard, temporary_path
from ._raw import CAPTURE, Capture
from ._retry import NOT_APPLIED_STATUSES, RETRYABLE_STATUSES, backoff_delay, parse_retry_after
from ._wire import Answer, BodyTooLarge, NetworkFailure, Timeouts, UnsupportedEncoding, Wire
from ._xml import excerpt, opening, parse_error_items

logger = logging.getLogger("iovox_async")

T = TypeVar("T")

DEFAULT_RECONCILE = "Check the account's current state before sending it again."


_URL_HEADS = 1024
"""How many ``/{Interface}?v=3&method=X`` URL heads a transport keeps built."""

_SCOPE_GRACE = 0.25
"""Seconds past ``timeout`` (at most; a tenth of it when shorter) before the
whole-request bound cancels, so that a connect time-out of the same length is reported
by the wire as one (never sent)."""


def _whole_exchange(seconds: float) -> float:
    """The bound on a whole exchange of ``seconds``: a little grace past it."""
    return seconds + min(_SCOPE_GRACE, seconds / 10)


@functools.lru_cache(maxsize=256)
def _timeouts(seconds: float, bounded: bool = False) -> Timeouts:
    """An attempt's time limits; ``bounded`` adds the whole-exchange total (see
    ``Timeouts``). Built once per value, so a wire can cache what it derives from them."""
    total = _whole_exchange(seconds) if bounded else None
    return Timeouts(read=seconds, connect=min(seconds, C.DEFAULT_CONNECT_TIMEOUT), total=total)


def error_items(body: bytes) -> list[ErrorItem] | None:
    """The error items of an XML or JSON error body; None when it has neither form."""
    if opening(body) in (b"{", b"["):
        return json_error_items(body)
    return parse_error_items(body)


class _PacedSink:
    """A download's file, moving the attempt's deadline on as bytes arrive.

    The deadline is ``start + timeout + written / DOWNLOAD_MIN_RATE``: a healthy
    transfer of any size finishes, a trickle is cut off after about ``timeout``.
    """

    __slots__ = ("_base", "_file", "_scope", "_written")

    def __init__(self, file: IO[bytes], scope: anyio.CancelScope) -> None:
        self._file = file
        self._scope = scope
        self._base = scope.deadline
        self._written = 0

    def write(self, chunk: bytes) -> int:
        self._written += len(chunk)
        self._scope.deadline = self._base + self._written / C.DOWNLOAD_MIN_RATE
        return self._file.write(chunk)


@dataclass(slots=True)
class Call:
    """Everything the transport needs to send one API call.

    Never changed once built: a client reuses the Call of a request that repeats
    exactly (an argument-less raw call, a generated call with the same query).
    (Not ``frozen``: a frozen dataclass sets each field through ``object.__setattr__``,
    which costs more than the rest of building a call.)
    """

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
        max_response_bytes: int = C.DEFAULT_MAX_RESPONSE_BYTES,
        max_recording_bytes: int = C.DEFAULT_MAX_RECORDING_BYTES,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.max_recording_bytes = max_recording_bytes
        self._headers = {"username": username, "secureKey": secure_key}
        self._xml_headers = {**self._headers, "Content-Type": "application/xml; charset=utf-8"}
        self._get_wire = get_wire
        self.limiter = limiter
        self._read_timeout = timeout
        self._url_heads: dict[tuple[str, str], str] = {}
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
            derived._read_timeout = timeout
        if max_retries is not None:
            derived.policy = dataclasses.replace(self.policy, max_retries=max_retries)
        derived.retries_taken = 0
        return derived

    # -- public entry points ----------------------------------------------------------

    async def send(self, call: Call) -> dict[str, Any] | bytes:
        """Send a call and return its decoded body."""
        url = self._url(call)
        capture = CAPTURE.get()  # the one cost of raw responses when none is asked for
        started = time.perf_counter() if capture is not None else 0.0
        attempts, answer = await self._with_retries(
            call, lambda n, s: self._send_once(call, url, n, s)
        )
        if capture is not None:
            self._record(capture, call, url, answer, attempts, started)
        due = call.expect_binary or (call.expect_body and answer.status == 200)
        if due and not opening(answer.body):
            kind = "a recording or file" if call.expect_binary else "a document"
            raise ResponseDecodeError(
                f"{call.interface}.{call.method} answered HTTP {answer.status} with an empty"
                f" body where {kind} was due"
            )._attach_answer(answer.status, answer.headers, answer.body, attempts)
        try:
            return await decode_body(
                answer.body,
                answer.headers.get("content-type"),
                shape=call.shape,
                expect_binary=call.expect_binary,
                expect_document=call.expect_body,
            )
        except ErrorDocument:
            failure = self._status_error(call, answer, attempts)
        except ResponseValueError as error:
            # It names the method, element and value already.
            error._attach_answer(answer.status, answer.headers, answer.body, attempts)
            raise
        except ResponseDecodeError as error:
            raise ResponseDecodeError(f"{call.interface}.{call.method}: {error}")._attach_answer(
                answer.status, answer.headers, answer.body, attempts
            ) from None
        raise failure

    async def download(self, call: Call, destination: Path) -> int:
        """Stream a binary response into ``destination``; return the bytes written.

        The body goes to a temporary file beside the destination, is checked against
        Content-Length, and is renamed into place only when complete. On any failure
        or cancellation the temporary file is removed and nothing is left behind.
        """
        destination = Path(destination)
        if destination.is_dir():
            raise ValidationError(
                f"the destination {str(destination)!r} is a directory: pass a file path"
            )
        temporary = temporary_path(destination)
        url = self._url(call)
        placed = False
        capture = CAPTURE.get()
        started = time.perf_counter() if capture is not None else 0.0
        try:
            attempts, answer = await self._with_retries(
                call, lambda n, s: self._stream_once(call, url, temporary, n, s)
            )
            os.replace(temporary, destination)
            placed = True
            if capture is not None:
                self._record(capture, call, url, answer, attempts, started)
            return answer.written
        finally:
            if not placed:
                discard(temporary)

    @staticmethod
    def _record(
        capture: Capture, call: Call, url: str, answer: Answer, attempts: int, started: float
    ) -> None:
        capture.record(
            interface=call.interface,
            method=call.method,
            url=url,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            attempts=attempts,
            elapsed=time.perf_counter() - started,
        )

    # -- one attempt ------------------------------------------------------------------

    def _url(self, call: Call) -> str:
        if call.endpoint is not None:
            query = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in call.params)
            return call.endpoint + ("?" + query if query else "")
        head = self._url_heads.get((call.interface, call.method))
        if head is None:
            head = f"{self._base_url}/{call.interface}?v={C.API_VERSION}&method=" + quote(
                call.method, safe=""
            )
            if len(self._url_heads) >= _URL_HEADS:  # raw calls may name anything
                self._url_heads.clear()
            self._url_heads[(call.interface, call.method)] = head
        if not call.params:
            return head
        parts = [head]
        for name, value in call.params:
            parts += ("&", quote(name, safe=""), "=", quote(value, safe=""))
        return "".join(parts)

    async def _send_once(
        self,
        call: Call,
        url: str,
        attempt: int,
        seconds: float | None,
        sink: IO[bytes] | None = None,
    ) -> Answer:
        """One attempt, bounded to ``seconds`` (the call's timeout when None)."""
        headers = self._headers if call.content is None else self._xml_headers
        budget = self._read_timeout if call.timeout is None else call.timeout
        if seconds is not None and seconds < budget:
            budget = seconds
        limit = self.max_recording_bytes if sink or call.expect_binary else self.max_response_bytes
        started = time.perf_counter()
        limiter = self.limiter
        # The slot is held by a token of this attempt, not by the task: asking for the
        # current task twice per call cost more than the rest of taking the slot.
        borrower = object()
        try:
            # A free slot is taken without ``async with``'s extra trip through the loop.
            limiter.acquire_on_behalf_of_nowait(borrower)
        except anyio.WouldBlock:
            await limiter.acquire_on_behalf_of(borrower)
        try:
            wire = self._get_wire()  # after the wait: the client may have closed meanwhile
            # The wire's own connect time-out fires first (it can prove "never sent").
            if sink is None and wire.bounds_total:
                answer = await wire.exchange(
                    call.http_method,
                    url,
                    headers,
                    call.content,
                    _timeouts(budget, True),
                    None,
                    limit,
                )
            else:
                timeouts = _timeouts(budget)
                deadline = anyio.current_time() + _whole_exchange(budget)
                with anyio.CancelScope(deadline=deadline) as scope:
                    paced = None if sink is None else _PacedSink(sink, scope)
                    answer = await wire.exchange(
                        call.http_method, url, headers, call.content, timeouts, paced, limit
                    )
                if scope.cancelled_caught:
                    raise NetworkFailure(
                        f"no complete answer within {budget:g} s", kind="deadline", timed_out=True
                    )
        except NetworkFailure as failure:
            self._log(call, attempt, None, started, failure.kind)
            raise
        except UnsupportedEncoding as encoding:
            raise ResponseDecodeError(
                f"{call.interface}.{call.method}: the response came in a content-encoding"
                f" that was not asked for or is corrupt: {encoding}"
            ) from None
        except BodyTooLarge as too_large:
            binary = limit == self.max_recording_bytes
            setting = "max_recording_bytes" if binary else "max_response_bytes"
            raise ResponseDecodeError(
                f"{call.interface}.{call.method}: the response body exceeded {too_large.limit}"
                f" bytes ({setting}); it was not read further"
            ) from None
        finally:
            limiter.release_on_behalf_of(borrower)
        self._log(call, attempt, answer.status, started)
        if not 200 <= answer.status < 300:
            # 3xx too: a redirect (a proxy, a moved endpoint) never ran the method, and
            # following one would send the secure key wherever it points.
            raise self._status_error(call, answer, attempt)
        if sink is not None and answer.status != 200:
            # Only a complete 200 is a file; an unsolicited 206 is a fragment.
            raise ResponseDecodeError(
                f"{call.interface}.{call.method} answered a download with HTTP {answer.status}"
                " instead of 200 with the whole file; nothing was saved"
            )._attach_answer(answer.status, answer.headers, answer.body, attempt)
        return answer

    async def _stream_once(
        self, call: Call, url: str, temporary: Path, attempt: int, seconds: float | None
    ) -> Answer:
        # Creating a file can block for a millisecond on a busy disk: not on the loop.
        # If a cancellation lands meanwhile, ``download`` still removes the file.
        sink = await anyio.to_thread.run_sync(create_for_writing, temporary)
        with sink:
            answer = await self._send_once(call, url, attempt, seconds, sink)
        if answer.expected is not None and answer.expected != answer.written:
            # A short body is a dropped transfer: safe to fetch again.
            raise NetworkFailure(
                f"body ended after {answer.written} of {answer.expected} bytes", kind="ShortBody"
            )
        return answer

    def _status_error(self, call: Call, answer: Answer, attempt: int) -> APIError:
        """The error for an error status, or for an error document sent with a 2xx."""
        status, body = answer.status, answer.body
        items = error_items(body)
        item_status = next((item.status for item in items or () if item.status), None)
        error_class = error_class_for(status if status >= 300 else (item_status or status))
        retry_after = None
        if status == 429:
            retry_after = parse_retry_after(answer.headers.get("retry-after"))
        return error_class(
            status,
            items or [],
            interface=call.interface,
            method=call.method,
            attempts=attempt,
            excerpt=None if items else (excerpt(body, C.ERROR_EXCERPT_CHARS) or None),
            retry_after=retry_after,
            headers=answer.headers,
            body=body,
        )

    def _log(
        self,
        call: Call,
        attempt: int,
        status: int | None,
        started: float,
        failure_kind: str | None = None,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        elapsed = time.perf_counter() - started
        outcome = f"HTTP {status}" if failure_kind is None else f"failed ({failure_kind})"
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
            if exc.deterministic:  # a bad certificate or an unknown host stays so
                return False
            return call.idempotent or exc.never_sent
        if isinstance(exc, APIError):
            if exc.status in NOT_APPLIED_STATUSES:  # 429: refused before it was applied
                return True
            return exc.status in RETRYABLE_STATUSES and call.idempotent
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

    async def _with_retries(
        self, call: Call, attempt: Callable[[int, float | None], Awaitable[T]]
    ) -> tuple[int, T]:
        """The attempt that succeeded: its number and result."""
        started = self.policy.clock()
        try:
            return 1, await attempt(1, self.policy.deadline)
        except (NetworkFailure, APIError) as failure:
            first_failure: NetworkFailure | APIError = failure
        # Only a failed first attempt pays for building tenacity's retry machinery.
        try:
            return await self._retry_after(call, attempt, first_failure, started)
        except NetworkFailure as failure:
            final: Exception = self._final_network_error(call, failure, failure.attempts)
            cause: Exception | None = None
        except ServerError as error:
            if call.idempotent:
                raise
            cause = error  # our own, redacted: safe to chain
            final = OutcomeUnknownError(
                call.interface,
                call.method,
                f"the server answered HTTP {error.status}",
                call.reconcile,
            )
        # Outside the handler: the final error's context is not the internal failure.
        raise final from cause

    async def _retry_after(
        self,
        call: Call,
        attempt: Callable[[int, float | None], Awaitable[T]],
        first_failure: NetworkFailure | APIError,
        started: float,
    ) -> tuple[int, T]:
        """Tenacity's loop, whose first attempt replays the failure already seen.

        ``retry_deadline`` is a hard total: no back-off may end past it, and each
        attempt gets at most what is left of it.
        """
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
            if state.attempt_number > retries:
                return True
            return policy.clock() - started + (state.upcoming_sleep or 0.0) >= policy.deadline

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
                    left = policy.deadline - (policy.clock() - started)
                    return number, await attempt(number, max(left, 0.001))
        except NetworkFailure as failure:
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
        if failure.deterministic:
            kind += " (not retried: it would fail the same way again)"
        return TransportError(
            f"request {kind}: {failure}",
            interface=call.interface,
            method=call.method,
            attempts=attempts,
        )


__all__ = ["Call", "RetryPolicy", "Transport"]
