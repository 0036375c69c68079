"""A server echoing the key in headers and body: raw responses and errors keep neither."""

from __future__ import annotations

from typing import Any

import pytest

from iovox_async import BadRequestError

from .rawserver import KEY, OK_XML, TRANSPORTS, answer_each, response, serving

pytestmark = pytest.mark.timeout(20)

ECHO_HEADERS = (
    f"secureKey: {KEY}\r\n"
    f"X-Echo: username=user; secureKey={KEY}\r\n"
    "Set-Cookie: session=abc\r\n"
    "Set-Cookie: other=def\r\n"
    "Vary: Accept\r\n"
    "Vary: Origin\r\n"
).encode()
ERROR_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><errors><error status="400">bad key '
    + KEY
    + "</error></errors>"
).encode()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_error_echoing_the_key(client_for: Any, transport: str) -> None:
    reply = response(ERROR_BODY, "400 Bad Request", extra=ECHO_HEADERS)
    async with serving(answer_each(reply)) as server, client_for(server.url, transport) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.with_raw_response(client.request, "Test", "echo")
    error = caught.value  # the suite's scan checks every attribute for the key too
    assert KEY.encode() not in error.body
    assert b'<error status="400">bad key ***</error>' in error.body
    assert error.messages == ["bad key ***"]
    assert "securekey" not in error.headers and "set-cookie" not in error.headers
    assert error.headers["x-echo"] == "username=user; secureKey=***"
    assert error.headers.get_all("vary") == ["Accept", "Origin"]
    assert KEY not in repr(error.headers)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_success_echoing_the_key_in_headers(client_for: Any, transport: str) -> None:
    reply = response(OK_XML, extra=ECHO_HEADERS)
    async with serving(answer_each(reply)) as server, client_for(server.url, transport) as client:
        raw = await client.with_raw_response(client.request, "Test", "echo")
    assert raw.parsed == {"ok": "1"} and raw.body == OK_XML
    assert set(name.lower() for name in raw.headers) == {
        "content-type",
        "content-length",
        "x-echo",
        "vary",
    }
    assert raw.headers["x-echo"] == "username=user; secureKey=***"
    assert raw.headers["vary"] == "Accept, Origin"
    assert KEY not in repr(raw) + repr(raw.headers)
