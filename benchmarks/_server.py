"""A tiny loopback HTTP/1.1 server for the benchmarks, run in its own process.

Every request, whatever its path or method, is answered after ``delay`` seconds
(one ``loop.call_later`` timer) with a small IOVOX-style XML page. Connections are kept alive.
It is a raw ``asyncio.Protocol`` rather than a web framework so that the server
stays cheap and never becomes the bottleneck; it runs in a separate process so
its CPU time is not counted against the client being measured.

Use :func:`running_server` from the benchmark process::

    with running_server(delay=0.05) as server:
        ...  # talk to http://127.0.0.1:{server.port}/; server.cpu_seconds() for its CPU
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

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
    if b"content-length" not in head.lower():
        return 0  # a GET: no need to split the head into lines
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


class _DelayedReplies(asyncio.Protocol):
    """Parses pipelined-or-not requests and answers each one after ``delay`` seconds.

    Each reply is one ``call_later`` timer, not a task: the server's CPU per request
    stays a small fraction of any client's, so on a small machine it takes as little
    as it can from the client being measured.
    """

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None  # replies still pending find no one to write to

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            total = end + 4 + _content_length(buffer[:end])
            if len(buffer) < total:
                break  # the request body has not fully arrived yet
            buffer = buffer[total:]
            self._loop.call_later(self._delay, self._reply)
        self._buffer = buffer

    def _reply(self) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(RESPONSE)


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


@dataclass(frozen=True)
class RunningServer:
    """The server's port, and its process's CPU seconds so far."""

    port: int
    pid: int

    def cpu_seconds(self) -> float | None:
        """User plus system CPU of the server process (None where /proc is missing)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 of stat(5) (utime, stime); [0] here is field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_server(delay: float, start_timeout: float = 10.0) -> Iterator[RunningServer]:
    """Start the server in a child process; yield it; stop it on exit."""
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
        assert process.pid is not None
        yield RunningServer(port, process.pid)
    finally:
        port_reader.close()
        lifeline_writer.close()  # the server sees EOF and stops by itself
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
