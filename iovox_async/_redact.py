"""Keep secure keys out of log output.

Every key a client is created with is registered here; a filter on the
``iovox_async`` logger, and on the loggers of the HTTP libraries underneath
(httpx, httpcore, aiohttp, asyncio), replaces any occurrence in a record, its
arguments or its exception text with ``***``. The transport never logs headers;
the libraries can (httpcore's DEBUG records quote a malformed answer, which a
proxy may have filled with the request's headers), so their records are cleaned
before any handler sees them. A filter sits on the logger that creates a record,
hence one per library logger rather than on their parents.
"""

from __future__ import annotations

import logging
import traceback

_SECRETS: set[str] = set()
REDACTED = "***"
MIN_SECRET_LENGTH = 4
"""Shorter keys are not redacted: every word would lose its letters (no real key is this short)."""


def register_secret(secret: str) -> None:
    """Remember a secret so log records and messages never show it."""
    if len(secret) >= MIN_SECRET_LENGTH:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


FILTERED_LOGGERS = (
    "iovox_async",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
    "asyncio",
)
"""Every logger whose records pass through :class:`RedactingFilter` before handlers."""


class RedactingFilter(logging.Filter):
    """Rewrites a record so no registered secret survives in its text or exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is left for logging's own error report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            cleaned_text = redact(text)
            if cleaned_text != text:
                # Formatters print exc_text when exc_info is gone: the cleaned copy.
                record.exc_info, record.exc_text = None, cleaned_text.rstrip("\n")
        return True


def install() -> None:
    """Attach the filter once to the package's and the HTTP libraries' loggers."""
    for name in FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def redact_bytes(data: bytes) -> bytes:
    """``data`` with every registered secret (as UTF-8) replaced."""
    for secret in _SECRETS:
        encoded = secret.encode()
        if encoded in data:
            data = data.replace(encoded, REDACTED.encode())
    return data
