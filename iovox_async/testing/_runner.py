"""Run the emulator on a free loopback port in a background thread."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from ..emulator.app import EmulatorApp
from ..emulator.config import EmulatorConfig
from ..emulator.faults import FaultSettings
from ..emulator.server import EmulatorServer
from ._process import ChildProcess

if TYPE_CHECKING:
    import httpx

    from .._client import AsyncIovox
    from ..emulator.state import State

START_TIMEOUT = 60.0


class RunningEmulator:
    """An emulator serving over loopback HTTP from its own thread and event loop.

    Use ``with RunningEmulator(...) as emulator:`` in synchronous code, or
    :func:`run_emulator` in async code. ``base_url``, ``username`` and
    ``secure_key`` are what a client needs; ``app`` (and ``state``, ``stats()``,
    ``set_faults()``, ``reset()``) give admin access in process.

    With ``process=True`` the server runs in a child process instead, so it shares
    no GIL with the client (for benchmarks); ``stats()``, ``set_faults()`` and
    ``reset()`` then go through the admin endpoints, and ``app``/``state`` are not
    available.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        process: bool = False,
        **options: Any,
    ) -> None:
        base = config or EmulatorConfig()
        self.config = base.with_changes(**options) if options else base
        self.host = host
        self.port = port
        self._child = ChildProcess(self.config, host, port) if process else None
        self._app: EmulatorApp | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._running_child = False

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> RunningEmulator:
        """Seed the data, start the server thread and wait until it listens."""
        if self._thread is not None or self._running_child:
            raise RuntimeError("this emulator is already running")
        if self._child is not None:
            self.port = self._child.start(START_TIMEOUT)
            self._running_child = True
            return self
        self._app = EmulatorApp(self.config)
        self._thread = threading.Thread(target=self._run, name="iovox-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the emulator did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the emulator failed to start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        assert self._app is not None
        self._stop = asyncio.Event()
        server = EmulatorServer(
            self._app, self.host, self.port, keepalive_timeout=self.config.keepalive_timeout
        )
        await server.start()
        self.port = server.port
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.close()

    def stop(self) -> None:
        """Stop the server and its thread (or process)."""
        if self._child is not None and self._running_child:
            self._child.stop()
            self._running_child = False
        if self._thread is None:
            return
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(30)
        self._thread = None

    def __enter__(self) -> RunningEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- connection details -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the URL to give a client."""
        return f"http://{self.host}:{self.port}"

    @property
    def username(self) -> str:
        """The accepted username."""
        return self.config.username

    @property
    def secure_key(self) -> str:
        """The accepted secure key."""
        return self.config.secure_key

    @property
    def headers(self) -> dict[str, str]:
        """The authentication headers the emulator accepts."""
        return {"username": self.username, "secureKey": self.secure_key}

    def client(self, **options: Any) -> AsyncIovox:
        """An ``AsyncIovox`` pointed at this emulator (options go to its constructor)."""
        from .._client import AsyncIovox

        return AsyncIovox(self.username, self.secure_key, base_url=self.base_url, **options)

    def http_client(self, **options: Any) -> httpx.AsyncClient:
        """A plain ``httpx.AsyncClient`` with base URL and credentials set."""
        import httpx

        return httpx.AsyncClient(base_url=self.base_url, headers=self.headers, **options)

    # -- admin ------------------------------------------------------------------------

    def _admin(self, verb: str, route: str, body: Any = None) -> Any:
        import httpx

        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            response = client.request(verb, f"/_emulator/{route}", json=body)
        if response.status_code >= 400:
            raise ValueError(response.json().get("error", response.text))
        return response.json()

    @property
    def app(self) -> EmulatorApp:
        """The emulator app (state, stats, faults) served by the thread."""
        if self._child is not None:
            raise RuntimeError("the emulator runs in another process; use stats(), set_faults()")
        if self._app is None:
            raise RuntimeError("the emulator is not running")
        return self._app

    @property
    def state(self) -> State:
        """The live state (read it while no request is in flight)."""
        return self.app.state

    def stats(self) -> dict[str, Any]:
        """Requests, effects, statuses and faults per method, as ``/_emulator/stats``."""
        if self._child is not None:
            return dict(self._admin("GET", "stats"))
        return self.app.stats.snapshot()

    def effects(self, key: str) -> int:
        """How many times ``"Interface.method"`` applied its side effect."""
        if self._child is not None:
            return int(self.stats()["effects"].get(key, 0))
        return self.app.stats.effects(key)

    def requests(self, key: str) -> int:
        """How many requests reached ``"Interface.method"``."""
        if self._child is not None:
            return int(self.stats()["requests"].get(key, 0))
        return self.app.stats.requests(key)

    def set_faults(self, settings: FaultSettings | Mapping[str, Any] | None) -> None:
        """Replace the fault settings (a :class:`FaultSettings` or its JSON form)."""
        if settings is None:
            settings = FaultSettings()
        elif not isinstance(settings, FaultSettings):
            settings = FaultSettings.from_json(json.loads(json.dumps(settings)))
        if self._child is not None:
            self._admin("PUT", "faults", settings.to_json())
            return
        self.app.set_faults(settings)

    def reset(self, *, state: bool = True, stats: bool = True, faults: bool = True) -> None:
        """Rebuild the seed data, zero counters, replay faults from the start."""
        if self._child is not None:
            self._admin("POST", "reset", {"state": state, "stats": stats, "faults": faults})
            return
        self.app.reset(state=state, stats=stats, faults=faults)


@asynccontextmanager
async def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    process: bool = False,
    **options: Any,
) -> AsyncIterator[RunningEmulator]:
    """``async with run_emulator(calls=500) as emulator:`` serves it on a free loopback port.

    ``options`` override :class:`EmulatorConfig` fields (``seed``, ``calls``,
    ``faults``, ``username``...). The server runs in a background thread, so any
    event loop (asyncio or trio) can talk to it; ``process=True`` runs it in a child
    process instead (no GIL shared with the client, for benchmarks).
    """
    emulator = RunningEmulator(config, host=host, port=port, process=process, **options)
    await anyio.to_thread.run_sync(emulator.start)
    try:
        yield emulator
    finally:
        await anyio.to_thread.run_sync(emulator.stop)
