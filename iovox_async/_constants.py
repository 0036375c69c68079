"""Every default the client uses, in one place."""

from __future__ import annotations

API_VERSION = "3"

ENVIRONMENTS: dict[str, str] = {
    "sandbox": "https://sandboxapi.iovox.com:444",
    "production": "https://api.iovox.com:444",
}
DEFAULT_ENVIRONMENT = "sandbox"

REST_V1_URLS: dict[str, str] = {
    "sandbox": "https://sandbox-rest.iovox.com/rest/v1",
    "production": "https://rest.iovox.com/rest/v1",
}
"""The newer "rest_v1" platform (call insights) of each environment: same credentials."""
REST_V1_PATH = "/rest/v1"
"""Where the v1 endpoints live on any other server (``base_url``, e.g. the emulator)."""

ENV_USERNAME = "IOVOX_USERNAME"
ENV_SECURE_KEY = "IOVOX_SECURE_KEY"
ENV_ENVIRONMENT = "IOVOX_ENVIRONMENT"
ENV_BASE_URL = "IOVOX_BASE_URL"

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})

DEFAULT_MAX_CONCURRENCY = 64
"""Requests in flight at once per client; the connection pool is sized from it."""

DEFAULT_TIMEOUT = 30.0
"""Seconds one request may take from start to its last byte (connect capped below).

A download's body is the one exception: see ``DOWNLOAD_MIN_RATE``."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DOWNLOAD_MIN_RATE = 16 * 1024
"""Bytes per second a streamed download must average beyond its first ``timeout``.

A download's deadline is ``start + timeout + received / DOWNLOAD_MIN_RATE``, and no
gap between bytes may exceed ``timeout``: a large recording at a healthy rate
finishes, a server trickling bytes is cut off after about ``timeout`` seconds."""

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The largest document body read into memory (decoded bytes): a 20,000-row CDR page
is about 20 MB of XML."""
DEFAULT_MAX_RECORDING_BYTES = 1024 * 1024 * 1024
"""The largest binary body (a recording or sound file) streamed to disk or returned."""
ERROR_BODY_BYTES = 64 * 1024
"""How much of a non-200 answer to a download is kept for the error message."""

DEFAULT_MAX_RETRIES = 4
"""Retries after the first attempt (so at most five attempts)."""
RETRY_BASE_DELAY = 0.25
RETRY_MAX_DELAY = 8.0
RETRY_MAX_RETRY_AFTER = 60.0
"""The longest Retry-After we honour; a larger value is capped."""
RETRY_DEADLINE = 120.0
"""Total seconds a call may spend across its attempts and back-offs."""

KEEPALIVE_EXPIRY = 4.0
"""The API drops idle connections after about five seconds; forget them before that."""

STREAM_CHUNK_SIZE = 256 * 1024
"""Bytes read from a streamed body at a time (a download, a body of unannounced size).
Each piece costs Python work (a file write, the attempt's deadline moved on), so at
64 KiB a download of 1 MB recordings spent more CPU per file than raw aiohttp plus
a file write; at 256 KiB, 50 streams at once hold under 13 MB."""
ERROR_EXCERPT_CHARS = 200
OFFLOAD_DECODE_BYTES = 256 * 1024
"""Bodies larger than this are parsed in a worker thread so the event loop keeps running."""

USER_AGENT = "iovox-async"
