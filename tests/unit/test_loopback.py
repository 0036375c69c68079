"""The transport over real loopback sockets, under both transports.

A tiny asyncio HTTP server stands in for the API so the failure modes are exact:
a connection dropped after the request arrived, a refused port, a short body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iovox_async import (
    APIError,
    AsyncIovox,
    AuthenticationError,
    ClientClosedError,
    IovoxError,
    OutcomeUnknownError,
    ResponseDecodeError,
    TransportError,
)
from iovox_async._wire import AiohttpWire, HttpxWire

OK_BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<response><ok>1</ok></response>'


class Server:
    """Answers per the next scripted action.

    'ok' (after ``delay`` seconds), 'drop', 'short', 'audio', 'hang' (never answers),
    'redirect' (302), 'empty' (200 with no body), 'echo401' (401 echoing the headers).
    ``in_flight`` / ``peak`` count requests received and not yet answered.
    """

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.received: list[bytes] = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.delay = 0.0
        self.in_flight = 0
        self.peak = 0
        self.got_request = asyncio.Event()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                self.received.append(head + body)
                self.got_request.set()
                action = self.actions.pop(0) if self.actions else "ok"
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                try:
                    if action == "hang":
                        await asyncio.sleep(30)
                    if self.delay:
                        await asyncio.sleep(self.delay)
                finally:
                    self.in_flight -= 1
                if action in ("redirect", "empty", "echo401"):
                    status, extra, payload = {
                        "redirect": (b"302 Found", b"Location: /elsewhere\r\n", b""),
                        "empty": (b"200 OK", b"", b""),
                        "echo401": (b"401 Unauthorized", b"", b"<p>rejected: " + head + b"</p>"),
                    }[action]
                    writer.write(
                        b"HTTP/1.1 " + status + b"\r\n" + extra + b"Content-Type: text/html\r\n"
                        b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
                    )
                    await writer.drain()
                    continue
                if action == "drop":
                    writer.close()
                    return
                if action == "short":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
                        b"Content-Length: 1000\r\n\r\n" + b"x" * 100
                    )
                    await writer.drain()
                    writer.close()
                    return
                if action == "audio":
                    payload, kind = b"ID3" + b"a" * 5000, b"audio/mpeg"
                else:
                    payload, kind = OK_BODY, b"text/xml"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: "
                    + kind
                    + b"\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    instance = Server()
    await instance.start()
    yield instance
    await instance.stop()


TRANSPORTS = ["aiohttp", "httpx"]


def client_for(port: int, transport: str, **options: object) -> AsyncIovox:
    client = AsyncIovox(
        "u", "k", base_url=f"http://127.0.0.1:{port}", transport=transport, **options
    )  # type: ignore[arg-type]
    client._transport.policy.base_delay = 0.001
    return client


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_post_dropped_after_arrival_is_an_unknown_outcome(
    server: Server, transport: str
) -> None:
    server.actions = ["drop", "ok"]
    async with client_for(server.port, transport) as client:
        with pytest.raises(OutcomeUnknownError, match="get_order_details"):
            await client.request(
                "Purchase",
                "purchaseVoxNumbers",
                http_method="POST",
                payload={"items": {"item": {"quantity": 1}}},
            )
    assert len(server.received) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_get_dropped_is_retried(server: Server, transport: str) -> None:
    server.actions = ["drop", "ok"]
    async with client_for(server.port, transport) as client:
        assert await client.request("Test", "echo") == {"ok": "1"}
    assert len(server.received) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_refused_connection_is_retried_even_for_post(transport: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_for(port, transport, max_retries=2) as client:
        with pytest.raises(TransportError) as caught:
            await client.request("SMS", "sendSms", http_method="POST", payload={"a": 1})
    assert caught.value.attempts == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_short_download_is_retried_and_leaves_no_partial_file(
    server: Server, transport: str, tmp_path: Path
) -> None:
    server.actions = ["short", "audio"]
    target = tmp_path / "rec.mp3"
    async with client_for(server.port, transport) as client:
        written = await client.download("Calls", "getCallRecording", target, params={"id": 1})
    assert written == 5003 == target.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["rec.mp3"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_failed_download_leaves_nothing(
    server: Server, transport: str, tmp_path: Path
) -> None:
    server.actions = ["short"] * 10
    async with client_for(server.port, transport, max_retries=1) as client:
        with pytest.raises(TransportError):
            await client.download("Calls", "getCallRecording", tmp_path / "r.mp3", params={"id": 1})
    assert list(tmp_path.iterdir()) == []


def connections_in_use(client: AsyncIovox) -> int:
    """Connections the client's pool has handed out and not taken back."""
    wire = client._get_wire()
    if isinstance(wire, AiohttpWire):
        return len(wire._get_session().connector._acquired)  # type: ignore[union-attr]
    assert isinstance(wire, HttpxWire)
    return len(wire.client._transport._pool._requests)  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_cancelled_download_leaves_nothing_and_frees_the_pool(
    transport: str, tmp_path: Path
) -> None:
    hold = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n"
            + b"x" * 1000
        )
        await writer.drain()
        await hold.wait()
        writer.close()

    slow_server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = slow_server.sockets[0].getsockname()[1]
    try:
        async with client_for(port, transport, max_concurrency=1) as client:
            task = asyncio.create_task(
                client.download("Calls", "getCallRecording", tmp_path / "r.mp3", params={"id": 1})
            )
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert list(tmp_path.iterdir()) == []
            assert client._transport.limiter.borrowed_tokens == 0
            await asyncio.sleep(0)
            assert connections_in_use(client) == 0
    finally:
        hold.set()
        slow_server.close()
        await slow_server.wait_closed()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_many_concurrent_calls_share_the_pool(server: Server, transport: str) -> None:
    async with client_for(server.port, transport, max_concurrency=8) as client:
        results = await asyncio.gather(*(client.request("Test", "echo") for _ in range(200)))
    assert all(r == {"ok": "1"} for r in results)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_headers_and_query_on_the_wire(server: Server, transport: str) -> None:
    async with client_for(server.port, transport) as client:
        await client.request("Nodes", "getNodes", params={"node_id": "A B/C", "limit": 5})
        await client.request("Nodes", "createNodes", http_method="POST", payload={"n": 1})
    get, post = (raw.split(b"\r\n\r\n", 1) for raw in server.received)
    get_head, post_head = get[0].decode(), post[0].decode()
    assert get_head.startswith("GET /Nodes?v=3&method=getNodes&node_id=A%20B%2FC&limit=5 ")
    for head in (get_head + "\r\n", post_head + "\r\n"):
        assert "\r\nusername: u\r\n" in head
        assert "\r\nsecureKey: k\r\n" in head
    assert "content-type" not in get_head.lower()
    assert "Content-Type: application/xml; charset=utf-8" in post_head
    assert post_head.startswith("POST /Nodes?v=3&method=createNodes ")
    assert post[1].startswith(b"<?xml") and b"<request><n>1</n></request>" in post[1]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_limiter_bounds_requests_in_flight(server: Server, transport: str) -> None:
    server.delay = 0.02
    async with client_for(server.port, transport, max_concurrency=5) as client:
        await asyncio.gather(*(client.request("Test", "echo") for _ in range(40)))
    assert server.peak == 5


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_post_after_read_timeout_is_an_unknown_outcome(
    server: Server, transport: str
) -> None:
    server.actions = ["hang"]
    async with client_for(server.port, transport) as client:
        with pytest.raises(OutcomeUnknownError, match="sendSms"):
            await client.request(
                "SMS", "sendSms", http_method="POST", payload={"a": 1}, timeout=0.2
            )
    assert len(server.received) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_post_after_connect_timeout_is_retried(transport: str) -> None:
    # A listening socket whose accept queue is full: new connections never complete.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        async with client_for(port, transport, max_retries=2) as client:
            with pytest.raises(TransportError, match="timed out") as caught:
                await client.request(
                    "SMS", "sendSms", http_method="POST", payload={"a": 1}, timeout=0.2
                )
        assert caught.value.attempts == 3
    finally:
        listener.close()
        for filler in fillers:
            filler.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_call_waiting_for_a_slot_is_not_sent_after_close(
    server: Server, transport: str
) -> None:
    server.delay = 0.2
    client = client_for(server.port, transport, max_concurrency=1)
    first = asyncio.create_task(client.request("Test", "echo"))
    queued = asyncio.create_task(client.request("Test", "echo"))
    await server.got_request.wait()  # the first holds the only slot; the second waits
    await client.aclose()
    for task in (first, queued):
        with contextlib.suppress(IovoxError):
            await task
    with pytest.raises(ClientClosedError):
        queued.result()
    assert len(server.received) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_redirect_is_an_error_not_a_success(server: Server, transport: str) -> None:
    server.actions = ["redirect"]
    async with client_for(server.port, transport) as client:
        with pytest.raises(APIError) as caught:
            await client.request("Purchase", "purchaseVoxNumbers", http_method="POST", payload={})
    assert caught.value.status == 302
    assert len(server.received) == 1


async def test_an_empty_200_for_a_document_method_is_a_decode_error(server: Server) -> None:
    server.actions = ["empty"]
    async with client_for(server.port, "aiohttp") as client:
        with pytest.raises(ResponseDecodeError, match="empty body"):
            await client.nodes.get_nodes()


async def test_a_key_echoed_by_the_server_is_redacted(server: Server) -> None:
    server.actions = ["echo401"]
    key = "echoed-secret-key-123"
    client = AsyncIovox("u", key, base_url=f"http://127.0.0.1:{server.port}")
    async with client:
        with pytest.raises(AuthenticationError) as caught:
            await client.request("Test", "echo")
    assert key.encode() in server.received[0]
    assert "secureKey" in str(caught.value)  # the echoed page is shown...
    assert key not in str(caught.value)  # ...without the key
    assert key not in repr(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_cancelled_request_frees_its_slot_and_connection(
    server: Server, transport: str
) -> None:
    server.actions = ["hang"]
    async with client_for(server.port, transport, max_concurrency=1) as client:
        task = asyncio.create_task(client.request("Test", "echo"))
        # Wait for arrival, not a fixed time: on a busy machine 0.1 s may not be enough,
        # and the next request would then draw the 'hang' instead.
        await asyncio.wait_for(server.got_request.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        assert client._transport.limiter.borrowed_tokens == 0
        assert connections_in_use(client) == 0
        assert await client.request("Test", "echo") == {"ok": "1"}
