"""Pure retry decisions: was a failed request sent, may it be repeated, how long to wait.

The rule that protects side effects: a call that is not idempotent is repeated only
when the request provably never reached the server. That is decided from the
underlying cause of a network error, never from the httpx class alone: an injected
httpx client over httpx-aiohttp reports a server that dropped the connection after
receiving a POST as ``httpx.ConnectTimeout`` (see LESSONS.md).
"""

from __future__ import annotations

import email.utils
import random
import socket
import ssl
import time
from collections.abc import Iterator

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_APPLIED_STATUSES = frozenset({429})
"""Statuses that mean the server refused before acting: retried even for writes."""

try:  # aiohttp is a dependency, but keep the rules usable without it
    import aiohttp

    # Refused, DNS, TLS set-up, and (aiohttp >= 3.10) a connect time-out.
    _AIOHTTP_NOT_SENT: tuple[type[BaseException], ...] = (
        aiohttp.ClientConnectorError,
        aiohttp.ConnectionTimeoutError,
    )
    _AIOHTTP_BASE: tuple[type[BaseException], ...] = (aiohttp.ClientError,)
    _AIOHTTP_CERTIFICATE: tuple[type[BaseException], ...] = (
        aiohttp.ClientConnectorCertificateError,
    )
except ImportError:  # pragma: no cover
    _AIOHTTP_NOT_SENT = _AIOHTTP_BASE = _AIOHTTP_CERTIFICATE = ()

# getaddrinfo's "no such host" answers; EAI_AGAIN (a resolver hiccup) is worth a retry.
_NO_SUCH_HOST = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
)

# httpx's native transport (httpcore) raises these only before a byte was written.
_HTTPX_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "os_error", None)  # aiohttp's connector errors
        if isinstance(wrapped, BaseException) and id(wrapped) not in seen:
            seen.add(id(wrapped))
            yield wrapped
        current = current.__cause__ or current.__context__


def is_deterministic(exc: BaseException) -> bool:
    """Whether a failure will recur on every attempt: a bad certificate, no such host."""
    for cause in _causes(exc):
        if isinstance(cause, (ssl.SSLCertVerificationError, *_AIOHTTP_CERTIFICATE)):
            return True
        if isinstance(cause, socket.gaierror) and cause.errno in _NO_SUCH_HOST:
            return True
    return False


def never_sent(exc: BaseException) -> bool:
    """Whether a transport failure proves the request never reached the server."""
    causes = list(_causes(exc))
    aiohttp_causes = [c for c in causes if _AIOHTTP_BASE and isinstance(c, _AIOHTTP_BASE)]
    if aiohttp_causes:
        # aiohttp names the phase precisely; the httpx class it was mapped to does not.
        return any(isinstance(c, _AIOHTTP_NOT_SENT) for c in aiohttp_causes)
    return isinstance(exc, _HTTPX_NOT_SENT)


def is_transport_failure(exc: BaseException) -> bool:
    """Network-level failures (connection, protocol, timeouts) worth a retry when safe."""
    return isinstance(exc, httpx.TransportError)


def backoff_delay(
    retry_number: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential back-off: uniform in [0, min(cap, base * 2**n)]."""
    ceiling = min(cap, base * (2 ** max(0, retry_number - 1)))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
