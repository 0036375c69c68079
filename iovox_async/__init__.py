"""iovox-async: the asyncio client for the IOVOX Enterprise REST API v3.

::

    async with AsyncIovox(username=..., secure_key=..., environment="sandbox") as iovox:
        page = await iovox.calls.get_call_data(sdt=datetime(2026, 11, 1), limit=500)
"""

from __future__ import annotations

from . import _logging, _redact
from ._client import AsyncIovox
from ._convert import ResponseValueError
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ErrorItem,
    IovoxError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)
from ._headers import Headers
from ._params import UndocumentedValueWarning
from ._raw import RawResponse
from ._xml import RawXML

__version__ = "0.1.0"

_redact.install()
_logging.configure_from_environment()

__all__ = [
    "APIError",
    "AsyncIovox",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ErrorItem",
    "Headers",
    "IovoxError",
    "OutcomeUnknownError",
    "RateLimitError",
    "RawResponse",
    "RawXML",
    "ResponseDecodeError",
    "ResponseValueError",
    "ServerError",
    "TransportError",
    "UndocumentedValueWarning",
    "ValidationError",
    "__version__",
]
