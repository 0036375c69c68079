"""A tiny loopback HTTP/1.1 server for the benchmarks, run in its own process.

Every request, whatever its path or method, is answered after ``delay`` seconds
(``asyncio.sleep``) with a small IOVOX-style XML page. Connections are kept alive.
It is a raw ``asyncio.Protocol`` rather than a web framework so that the server
stays cheap and never becomes the bottleneck; it runs in a separate process so
its CPU time is not counted against the client being measured.

Use :func:`running_server` from the benchmark process::

    with running_server(delay=0.05) as port:
        ...  # talk to http://127.0.0.1:{port}/
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

HOST = "127.0.0.1"

BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?><response><current_page>1</current_page>'
    b"<total_pages>1</total_pages><total_results>1</total_results>"
    b"<results><result><id>1</id></result></results></response>"
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/xml\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" % len(BODY)
) + BODY


def _content_length(head: bytes) -> int:
    """The Content-Length of a request head (0 when absent)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


class _DelayedReplies(asyncio.Protocol):
    """Parses pipelined-or-not requests and answers each one after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for task in self._pending:
            task.cancel()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            total = end + 4 + _content_length(self._buffer[:end])
            if len(self._buffer) < total:
                return  # the request body has not fully arrived yet
            self._buffer = self._buffer[total:]
            task = asyncio.ensure_future(self._reply_later())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _reply_later(self) -> None:
        await asyncio.sleep(self._delay)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(RESPONSE)


async def _until_closed(lifeline: Connection) -> None:
    """Return when the parent closes its end of ``lifeline`` (or the parent dies)."""
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(lifeline.fileno(), closed.set)  # EOF makes the pipe readable
    try:
        await closed.wait()
    finally:
        loop.remove_reader(lifeline.fileno())


async def _serve(delay: float, ready: Connection, lifeline: Connection) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _DelayedReplies(delay), HOST, 0, backlog=4096, reuse_address=True
    )
    ready.send(server.sockets[0].getsockname()[1])
    ready.close()
    async with server:
        await _until_closed(lifeline)


def serve(delay: float, ready: Connection, lifeline: Connection) -> None:
    """Process entry point: serve on a free loopback port, report it through ``ready``,
    and stop when ``lifeline`` is closed by the parent."""
    asyncio.run(_serve(delay, ready, lifeline))


@contextmanager
def running_server(delay: float, start_timeout: float = 10.0) -> Iterator[int]:
    """Start the server in a child process; yield its port; stop it on exit."""
    context = multiprocessing.get_context("spawn")
    port_reader, port_writer = context.Pipe(duplex=False)
    lifeline_reader, lifeline_writer = context.Pipe(duplex=False)
    process = context.Process(
        target=serve,
        args=(delay, port_writer, lifeline_reader),
        name="bench-server",
        daemon=True,
    )
    process.start()
    port_writer.close()
    lifeline_reader.close()
    try:
        if not port_reader.poll(start_timeout):
            raise RuntimeError(f"the benchmark server did not start within {start_timeout} s")
        try:
            port: int = port_reader.recv()
        except EOFError:
            raise RuntimeError(
                f"the benchmark server exited at start (exit code {process.exitcode})"
            ) from None
        yield port
    finally:
        port_reader.close()
        lifeline_writer.close()  # the server sees EOF and stops by itself
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
