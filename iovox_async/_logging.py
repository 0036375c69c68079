"""``IOVOX_LOG=debug|info``: the library's log lines on stderr without writing code.

Read once at import. A handler is added to the ``iovox_async`` logger only (never the
root logger, so an application's own logging setup is untouched), at most once, and
it redacts every registered secure key, also in records of child loggers such as
``iovox_async.emulator``. ``debug`` shows one line per HTTP attempt (method, status,
time; never headers or keys), ``info`` one line per retry and any warnings.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from ._redact import RedactingFilter

ENV_LOG = "IOVOX_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _EnvironmentHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``IOVOX_LOG`` adds (a class of its own, so it is added only once)."""


def configure_from_environment() -> None:
    """Apply ``IOVOX_LOG`` to the ``iovox_async`` logger (idempotent)."""
    value = os.environ.get(ENV_LOG, "").strip().lower()
    if not value:
        return
    level = LEVELS.get(value)
    if level is None:
        choices = " or ".join(LEVELS)
        warnings.warn(f"{ENV_LOG}={value!r} is not {choices}; ignored", stacklevel=2)
        return
    logger = logging.getLogger("iovox_async")
    logger.setLevel(level)
    if any(isinstance(handler, _EnvironmentHandler) for handler in logger.handlers):
        return
    handler = _EnvironmentHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
