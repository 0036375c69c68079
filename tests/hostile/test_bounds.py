"""Time and memory stay bounded whatever the server does."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from iovox_async import ResponseDecodeError, TransportError, _xml

from .rawserver import TRANSPORTS, Connection, answer_each, response, serving

pytestmark = pytest.mark.timeout(30)


def trickle(head: bytes, *, every: float) -> Any:
    """Headers at once, then one body byte every ``every`` seconds, forever."""

    async def handler(connection: Connection) -> None:
        while await connection.request() is not None:
            await connection.send(head)
            while True:
                await connection.send(b" ")
                await asyncio.sleep(every)

    return handler


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_trickling_document_is_cut_off_by_timeout(transport: str, client_for: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n"
    async with (
        serving(trickle(head, every=0.05)) as api,
        client_for(api.url, transport, timeout=1.0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await asyncio.wait_for(client.request("Test", "echo"), 10)
        elapsed = time.monotonic() - started
        assert client._transport.limiter.borrowed_tokens == 0
    assert elapsed < 4.0  # about one timeout (+ grace, + a loaded machine), not 5000 s


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_trickling_download_is_cut_off_by_the_minimum_rate(
    transport: str, client_for: Any, tmp_path: Path
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n"
    async with (
        serving(trickle(head, every=0.05)) as api,
        client_for(api.url, transport, timeout=1.0) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await asyncio.wait_for(
                client.download("Calls", "getCallRecording", tmp_path / "a.mp3"), 10
            )
        elapsed = time.monotonic() - started
    assert elapsed < 4.0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_retry_deadline_is_a_hard_total(transport: str, client_for: Any) -> None:
    async def silent(connection: Connection) -> None:
        if await connection.request() is not None:
            await asyncio.Event().wait()  # never answers

    async with serving(silent) as api:
        client = client_for(api.url, transport, timeout=1.5, retry_deadline=1.6, max_retries=5)
        async with client:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await asyncio.wait_for(client.request("Test", "echo"), 10)
            elapsed = time.monotonic() - started
    # Without the rule, the second attempt gets a whole timeout: about 3 s in all.
    assert caught.value.attempts <= 2
    assert elapsed < 2.5


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("announced", [True, False])
async def test_a_huge_document_is_refused_past_the_limit(
    transport: str, announced: bool, client_for: Any
) -> None:
    body = b"<response>" + b"<a>1</a>" * 400_000 + b"</response>"  # 3.2 MB
    if announced:
        reply = response(body)
    else:
        chunk = b"%x\r\n%s\r\n" % (len(body), body)
        reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        reply += chunk + b"0\r\n\r\n"
    async with (
        serving(answer_each(reply)) as api,
        client_for(api.url, transport, max_response_bytes=1024 * 1024) as client,
    ):
        with pytest.raises(ResponseDecodeError, match="max_response_bytes"):
            await client.request("Test", "echo")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_gzip_bomb_is_stopped_at_the_limit(transport: str, client_for: Any) -> None:
    bomb = gzip.compress(b"<response>" + b" " * (40 * 1024 * 1024), compresslevel=9)  # ~40 KB
    reply = response(bomb, extra=b"Content-Encoding: gzip\r\n")
    async with (
        serving(answer_each(reply)) as api,
        client_for(api.url, transport, max_response_bytes=1024 * 1024) as client,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(ResponseDecodeError, match="max_response_bytes"):
                await client.request("Test", "echo")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # the 40 MB it inflates to were never held


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_recording_past_its_own_limit_leaves_no_file(
    transport: str, client_for: Any, tmp_path: Path
) -> None:
    reply = response(b"\xff\xfb" * 600_000, content_type="audio/mpeg")  # 1.2 MB
    async with (
        serving(answer_each(reply)) as api,
        client_for(api.url, transport, max_recording_bytes=1024 * 1024) as client,
    ):
        with pytest.raises(ResponseDecodeError, match="max_recording_bytes"):
            await client.download("Calls", "getCallRecording", tmp_path / "a.mp3")
        with pytest.raises(ResponseDecodeError, match="max_recording_bytes"):
            await client.calls.get_call_recording(id="1")
    assert list(tmp_path.iterdir()) == []


LAUGHS = (
    '<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE r ['
    + '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefg", "bcdefgh", strict=True)
    )
    + "]><response>&h;</response>"
)


def test_the_parser_itself_refuses_a_doctype(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the byte scan out of the way (as for a UTF-16 body it cannot read), the
    # parser still stops at the DOCTYPE, before one entity is declared.
    monkeypatch.setattr(_xml, "_check_safe", lambda body: None)
    body = LAUGHS.format(encoding="utf-8").encode()
    started = time.monotonic()
    with pytest.raises(ResponseDecodeError, match="document type"):
        _xml.decode_document(body, frozenset())
    with pytest.raises(ResponseDecodeError, match="document type"):
        _xml._parse_tree(body)
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_utf16_entity_bomb_is_refused(transport: str, client_for: Any) -> None:
    body = LAUGHS.format(encoding="UTF-16").encode("utf-16")
    reply = response(body, content_type="text/xml; charset=utf-16")
    async with serving(answer_each(reply)) as api, client_for(api.url, transport) as client:
        with pytest.raises(ResponseDecodeError):
            await asyncio.wait_for(client.request("Test", "echo"), 5)
