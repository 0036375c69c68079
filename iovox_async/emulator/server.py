"""A small asyncio HTTP/1.1 server for ASGI apps, able to misbehave on purpose.

Uvicorn answers 500 when an app fails before responding, so it cannot drop a
connection with no response at all. This server can: when the app raises
:class:`ConnectionDropped` it closes the connection right there, after whatever
part of the response was already written (nothing for a drop, the headers and
part of the body for a truncated response). It keeps connections alive between
requests and closes idle ones after ``keepalive_timeout`` seconds, as the real API
does after about five.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from .faults import ConnectionDropped
from .protocol import error_body

logger = logging.getLogger("iovox_async.emulator")

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
BODY_TIMEOUT = 60.0


class _BadRequest(Exception):
    pass


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Exchange:
    """One request/response on a connection: the ASGI ``receive`` and ``send`` pair."""

    def __init__(self, writer: asyncio.StreamWriter, body: bytes, keep_alive: bool) -> None:
        self.writer = writer
        self.body = body
        self.keep_alive = keep_alive
        self.body_given = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_written = False
        self.chunked = False
        self.finished = False
        self.done = asyncio.Event()

    async def receive(self) -> Message:
        """ASGI receive: the whole body once, then a disconnect when the response is done."""
        if not self.body_given:
            self.body_given = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.done.wait()
        return {"type": "http.disconnect"}

    def _head(self, more_body: bool, first_chunk: bytes) -> bytes:
        names = {name.lower() for name, _ in self.headers}
        headers = list(self.headers)
        if b"content-length" not in names and self.status not in (204, 304) and self.status >= 200:
            if more_body:
                self.chunked = True
                headers.append((b"transfer-encoding", b"chunked"))
            else:
                headers.append((b"content-length", str(len(first_chunk)).encode("ascii")))
        headers.append((b"date", email.utils.formatdate(usegmt=True).encode("ascii")))
        headers.append((b"server", b"iovox-emulator"))
        if not self.keep_alive:
            headers.append((b"connection", b"close"))
        lines = [f"HTTP/1.1 {self.status} {_reason(self.status)}".encode("latin-1")]
        lines += [name + b": " + value for name, value in headers]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def send(self, message: Message) -> None:
        """ASGI send: write the head with the first body chunk, then the rest."""
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                (bytes(name), bytes(value)) for name, value in message.get("headers", [])
            ]
            return
        if kind != "http.response.body" or self.finished:
            return
        chunk = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        out = b""
        if not self.head_written:
            out = self._head(more, chunk)
            self.head_written = True
        if self.chunked:
            if chunk:
                out += f"{len(chunk):x}\r\n".encode("ascii") + chunk + b"\r\n"
            if not more:
                out += b"0\r\n\r\n"
        else:
            out += chunk
        self.writer.write(out)
        await self.writer.drain()
        if not more:
            self.finished = True
            self.done.set()


class EmulatorServer:
    """Serves an ASGI app on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        keepalive_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.keepalive_timeout = keepalive_timeout
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the listening server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen; ``port`` then holds the bound port."""
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        """Listen (if not yet) and serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; ``False`` when the connection must close."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.keepalive_timeout)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False
        try:
            verb, target, version, headers = _parse_head(head)
            fields = {name: value for name, value in headers}
            if fields.get(b"expect", b"").lower() == b"100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await asyncio.wait_for(_read_body(reader, fields), BODY_TIMEOUT)
        except _BadRequest as problem:
            writer.write(_plain(400, str(problem)))
            await writer.drain()
            return False
        connection = fields.get(b"connection", b"").lower()
        keep_alive = (
            connection != b"close" if version == "HTTP/1.1" else connection == b"keep-alive"
        )
        path, _, query = target.partition(b"?")
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version.split("/", 1)[-1],
            "method": verb,
            "scheme": "http",
            "path": unquote(path.decode("latin-1")),
            "raw_path": path,
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": tuple(peer[:2]) if isinstance(peer, tuple) else None,
            "server": tuple(local[:2]) if isinstance(local, tuple) else None,
        }
        exchange = _Exchange(writer, body, keep_alive)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except (ConnectionDropped, ConnectionError):
            return False
        except Exception:
            logger.exception("the emulator app failed on %s %s", verb, target.decode("latin-1"))
            if not exchange.head_written:
                writer.write(_xml_500(keep_alive))
                await writer.drain()
                return keep_alive
            return False
        finally:
            exchange.done.set()
        return exchange.finished and keep_alive


def _parse_head(head: bytes) -> tuple[str, bytes, str, list[tuple[bytes, bytes]]]:
    lines = head[:-4].split(b"\r\n")
    try:
        verb, target, version = lines[0].decode("latin-1").split(" ")
    except ValueError:
        raise _BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise _BadRequest("only HTTP/1.x is served")
    headers = []
    for line in lines[1:]:
        name, separator, value = line.partition(b":")
        if not separator:
            raise _BadRequest("malformed header line")
        headers.append((name.strip().lower(), value.strip()))
    return verb.upper(), target.encode("latin-1"), version, headers


async def _read_body(reader: asyncio.StreamReader, fields: dict[bytes, bytes]) -> bytes:
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("malformed chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length_text = fields.get(b"content-length", b"0").strip() or b"0"
    if not length_text.isdigit():
        raise _BadRequest("malformed Content-Length")
    length = int(length_text)
    if length > MAX_BODY:
        raise _BadRequest("body too large")
    return await reader.readexactly(length) if length else b""


def _plain(status: int, text: str) -> bytes:
    body = text.encode("utf-8")
    return (
        f"HTTP/1.1 {status} {_reason(status)}\r\ncontent-type: text/plain\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("latin-1") + body


def _xml_500(keep_alive: bool) -> bytes:
    body = error_body([(500, "Internal Server Error")])
    connection = "" if keep_alive else "connection: close\r\n"
    return (
        f"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/xml\r\n"
        f"content-length: {len(body)}\r\n{connection}\r\n"
    ).encode("latin-1") + body


async def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    keepalive_timeout: float = 5.0,
    on_ready: Callable[[EmulatorServer], None] | None = None,
) -> None:
    """Serve ``app`` until cancelled; ``on_ready`` gets the server once it listens."""
    server = EmulatorServer(app, host, port, keepalive_timeout=keepalive_timeout)
    await server.start()
    if on_ready is not None:
        on_ready(server)
    try:
        await server.serve_forever()
    finally:
        await server.close()
