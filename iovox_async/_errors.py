"""The exception hierarchy.

::

    IovoxError
    ├── APIError                 the server answered with an error status
    │   ├── BadRequestError      400
    │   ├── AuthenticationError  401 (keys are tied to allow-listed IPs)
    │   ├── RateLimitError       429
    │   └── ServerError          5xx
    ├── OutcomeUnknownError      a call with side effects may or may not have happened
    ├── TransportError           network failure or timeout
    ├── ResponseDecodeError      a body that is not what it should be
    ├── ValidationError          bad arguments, caught before anything is sent (also ValueError)
    └── ClientClosedError        the client was closed
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._constants import ERROR_BODY_BYTES
from ._headers import NO_HEADERS, Headers
from ._redact import redact, redact_bytes


class IovoxError(Exception):
    """Base class of every error this library raises.

    Text arguments are redacted: a secure key echoed by a server, a proxy page or a
    network error message never reaches ``str()``, ``repr()`` or a traceback.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One ``<error status="...">message</error>`` of an error body."""

    status: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.status}: {self.message}"


class APIError(IovoxError):
    """The API answered with an error status.

    ``errors`` holds every ``<error>`` item of the body (an empty list when the body
    was not XML; ``excerpt`` then shows its start). ``status``, ``headers``, ``body``
    and ``attempts`` describe the answer as received, minus any secret: credential
    headers (``secureKey``, ``Authorization``, cookies) are dropped, a secure key
    echoed anywhere else reads ``***``, and ``body`` holds at most its first
    ``ERROR_BODY_BYTES`` (64 KiB).
    """

    def __init__(
        self,
        status: int,
        errors: list[ErrorItem],
        *,
        interface: str,
        method: str,
        attempts: int = 1,
        excerpt: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.headers = NO_HEADERS if headers is None else Headers.received(headers)
        self.body = redact_bytes(body[:ERROR_BODY_BYTES])
        self.errors = errors
        self.interface = interface
        self.method = method
        self.attempts = attempts
        self.excerpt = excerpt
        self.retry_after = retry_after
        super().__init__(self._describe())

    @property
    def messages(self) -> list[str]:
        return [item.message for item in self.errors]

    def _hint(self) -> str:
        return ""

    def _describe(self) -> str:
        where = f"{self.interface}.{self.method}"
        if self.errors:
            # The API's 401 text is itself "HTTP 401: Unauthorized": say the status once.
            repeated = f"HTTP {self.status}: "
            detail = "; ".join(item.message.removeprefix(repeated) for item in self.errors)
        elif self.excerpt:
            detail = f"unexpected body: {self.excerpt!r}"
        else:
            detail = "empty body"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{where} failed with HTTP {self.status}{tries}: {detail}{self._hint()}"


class BadRequestError(APIError):
    """HTTP 400: the API rejected the request (missing or invalid data)."""


class AuthenticationError(APIError):
    """HTTP 401: wrong username / secure key, or this machine's IP is not allow-listed."""

    def _hint(self) -> str:
        return (
            " (IOVOX keys only work from allow-listed IP addresses, and sandbox and"
            " production have separate keys and IP lists: check the username, the secure"
            " key, the environment, and that this machine's IP is registered under"
            " Settings > API Settings)"
        )


class RateLimitError(APIError):
    """HTTP 429: too many requests; ``retry_after`` holds the server's wait, if sent."""


class ServerError(APIError):
    """HTTP 5xx: the API failed; safe calls are retried before this is raised."""


class OutcomeUnknownError(IovoxError):
    """A call with side effects failed after it may have reached the server.

    It was not retried, because a retry could repeat the effect (buy numbers twice,
    send an SMS twice). Check the account's state before trying again; ``reconcile``
    says how.
    """

    def __init__(self, interface: str, method: str, cause: str, reconcile: str) -> None:
        self.interface = interface
        self.method = method
        self.cause = cause
        self.reconcile = reconcile
        super().__init__(
            f"{interface}.{method} may or may not have been applied ({cause}); it was not"
            f" retried because it has side effects. {reconcile}"
        )


class TransportError(IovoxError):
    """The request failed on the network (connection, TLS, timeout)."""

    def __init__(self, message: str, *, interface: str, method: str, attempts: int = 1) -> None:
        self.interface = interface
        self.method = method
        self.attempts = attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{interface}.{method}: {message}{tries}")


class ResponseDecodeError(IovoxError):
    """A response body was not the XML (or binary) it should be.

    Where an answer was received, ``status``, ``headers``, ``body`` and ``attempts``
    describe it as :class:`APIError` does (secret-free, ``body`` bounded); otherwise
    (a body too large or in a corrupt encoding, never read whole) they stay ``None``,
    empty and ``b""``.
    """

    status: int | None = None
    headers: Headers = NO_HEADERS
    body: bytes = b""
    attempts: int | None = None

    def _attach_answer(
        self, status: int, headers: Mapping[str, str], body: bytes, attempts: int
    ) -> ResponseDecodeError:
        """Attach the answer this error is about; returns the error itself."""
        self.status = status
        self.headers = Headers.received(headers)
        self.body = redact_bytes(body[:ERROR_BODY_BYTES])
        self.attempts = attempts
        return self


class ValidationError(IovoxError, ValueError):
    """Arguments were rejected before any request was sent."""


class ClientClosedError(IovoxError, RuntimeError):
    """The client was closed; create a new one."""


def error_class_for(status: int) -> type[APIError]:
    """The exception class an HTTP error status maps to."""
    if status == 401:
        return AuthenticationError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    if status == 400:
        return BadRequestError
    return APIError


_MESSAGE_KEYS = ("#text", "message", "text", "$", "value", "0")
_STATUS_KEYS = ("@status", "status", "code")


def _json_item(value: Any) -> ErrorItem | None:
    if isinstance(value, str):
        return ErrorItem(None, redact(value.strip()))
    if not isinstance(value, dict):
        return None
    attributes = value.get("@attributes")
    fields = {**value, **attributes} if isinstance(attributes, dict) else value
    raw_status = next((fields[key] for key in _STATUS_KEYS if key in fields), None)
    message = next((fields[key] for key in _MESSAGE_KEYS if isinstance(fields.get(key), str)), None)
    if message is None:
        return None
    text = str(raw_status).strip() if raw_status is not None else ""
    return ErrorItem(int(text) if text.isdigit() else None, redact(message.strip()))


def json_error_items(body: bytes) -> list[ErrorItem] | None:
    """The error items of a JSON error body, or None when it is not one.

    With ``output=JSON`` an error follows the requested format: the XML tree
    ``<errors><error status="400">text</error></errors>`` mirrored as
    ``{"errors": {"error": [{"status": "400", "#text": "text"}]}}``. The exact JSON
    spelling is undocumented, so the forms a converter produces are accepted (the
    status as ``status``, ``@status`` or ``@attributes``; the text as ``#text``,
    ``message``, ...; one error as an object or a plain string; a ``response``
    wrapper). Anything else is None, and the caller keeps the body's text.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to be an error
        return None
    if isinstance(data, dict) and set(data) == {"response"}:
        data = data["response"]
    if not isinstance(data, dict):
        return None
    container = data.get("errors", data)
    if not isinstance(container, dict) or "error" not in container:
        return None
    entries = container["error"]
    items = [_json_item(entry) for entry in (entries if isinstance(entries, list) else [entries])]
    found = [item for item in items if item is not None]
    return found or None
