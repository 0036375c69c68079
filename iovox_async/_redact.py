"""Keep secure keys out of log output.

Every key a client is created with is registered here; a filter on the
``iovox_async`` logger replaces any occurrence in a record with ``***``. The
transport never logs headers, so this is a second line of defence (for example
against a message that formats a URL or an exception carrying request data).
"""

from __future__ import annotations

import logging

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


class RedactingFilter(logging.Filter):
    """Rewrites records of the ``iovox_async`` logger so no secret survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Attach the filter to the package logger once."""
    logger = logging.getLogger("iovox_async")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
