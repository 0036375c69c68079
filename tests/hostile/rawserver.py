"""A loopback TCP server that answers with exactly the bytes a test scripts.

Each accepted connection runs ``handler(connection)``; the handler reads requests
with :meth:`Connection.request` and writes whatever it likes (a broken status line,
a trickle, a body that never ends). Every request received is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

KEY = "hostile-KEY-7f3a9c1e5b2d"
"""The secure key every hostile test uses; the suite's secret scan looks for it."""

OK_XML = b'<?xml version="1.0" encoding="utf-8"?><response><ok>1</ok></response>'


def response(
    body: bytes = OK_XML,
    status: str = "200 OK",
    content_type: str = "text/xml",
    extra: bytes = b"",
) -> bytes:
    """A well-formed HTTP/1.1 response with a Content-Length."""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    ).encode()
    return head + extra + b"\r\n" + body


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: RawServer

    async def request(self) -> bytes | None:
        """The next request (head and body), or None when the client hung up."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length) if length else b""
        self.server.requests.append(head + body)
        return head + body

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Handler = Callable[[Connection], Awaitable[None]]


@dataclass
class RawServer:
    handler: Handler
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)  # cancelled at the end: a handler may wait forever
        try:
            await self.handler(Connection(reader, writer, self))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving(handler: Handler, **ssl: object) -> AsyncIterator[RawServer]:
    """Run a :class:`RawServer` on 127.0.0.1 for the block."""
    raw = RawServer(handler)
    server = await asyncio.start_server(raw._serve, "127.0.0.1", 0, **ssl)  # type: ignore[arg-type]
    raw.port = server.sockets[0].getsockname()[1]
    try:
        yield raw
    finally:
        for task in raw.tasks:
            task.cancel()
        await asyncio.gather(*raw.tasks, return_exceptions=True)
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


def answer_each(*replies: bytes, keep_alive: bool = True) -> Handler:
    """A handler answering successive requests with ``replies`` (the last repeats)."""
    queue = list(replies)

    async def handler(connection: Connection) -> None:
        while await connection.request() is not None:
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
            await connection.send(reply)
            if not keep_alive:
                return

    return handler


TRANSPORTS = ["aiohttp", "httpx"]
