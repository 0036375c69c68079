"""A local IOVOX Enterprise REST API v3, built from the same spec as the client.

Stateful (nodes, links, contacts, categories, numbers, orders, call flows, calls,
recordings, SMS, sound files) with deterministic seed data, the API's documented error
strings and formats, and seeded fault injection. Where the docs give no message for
a case (an unknown id in some methods, a refused template overwrite), the emulator
answers one in the API's style; the real API may word it differently. Use it in
process::

    app = create_app(calls=500)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    async with AsyncIovox(DEFAULT_USERNAME, DEFAULT_SECURE_KEY,
                          base_url="http://127.0.0.1", http_client=http) as iovox:
        ...

over loopback HTTP with :func:`iovox_async.testing.run_emulator`, or from a shell
with ``iovox emulator serve``.
"""

from __future__ import annotations

from .app import EmulatorApp, create_app
from .config import (
    DEFAULT_REFERENCE,
    DEFAULT_SECURE_KEY,
    DEFAULT_SEED,
    DEFAULT_USERNAME,
    EmulatorConfig,
)
from .faults import ConnectionDropped, FaultSettings, FaultSpec
from .protocol import ApiError
from .server import EmulatorServer, serve

__all__ = [
    "DEFAULT_REFERENCE",
    "DEFAULT_SECURE_KEY",
    "DEFAULT_SEED",
    "DEFAULT_USERNAME",
    "ApiError",
    "ConnectionDropped",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultSettings",
    "FaultSpec",
    "create_app",
    "serve",
]
