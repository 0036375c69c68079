"""Raw responses over ``httpx.MockTransport``: what ``with_raw_response`` and errors carry."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from iovox_async import (
    APIError,
    AsyncIovox,
    BadRequestError,
    Headers,
    RawResponse,
    ResponseDecodeError,
    ServerError,
    ValidationError,
)
from iovox_async._constants import ERROR_BODY_BYTES
from iovox_async._raw import CAPTURE

from .conftest import SECRET, errors, xml

OK = "<response><ok>1</ok></response>"
MakeClient = Callable[..., tuple[AsyncIovox, Any]]


class Script:
    """Answers in order (the last one repeats), counting requests."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


async def test_a_success_carries_status_headers_body_and_one_attempt(
    make_client: MakeClient,
) -> None:
    answer = xml(OK, 200, **{"X-Request-Id": "abc-1"})
    client, _ = make_client(Script(answer))
    raw = await client.with_raw_response(client.request, "Test", "echo", params={"limit": 5})
    assert isinstance(raw, RawResponse)
    assert raw.parsed == {"ok": "1"} == await client.request("Test", "echo")
    assert raw.status == 200
    assert raw.headers["x-request-id"] == raw.headers["X-REQUEST-ID"] == "abc-1"
    assert raw.headers["Content-Type"] == "text/xml"
    assert raw.body == answer.content
    assert raw.attempts == 1
    assert raw.responses == 1
    assert (raw.interface, raw.method) == ("Test", "echo")
    assert raw.url.startswith("https://api.test:444/Test?v=3&method=echo&limit=5")
    assert raw.elapsed >= 0
    assert repr(raw).startswith("<RawResponse Test.echo HTTP 200,")
    with pytest.raises(dataclasses.FrozenInstanceError):
        raw.status = 500  # type: ignore[misc]


async def test_a_retried_success_counts_two_attempts(make_client: MakeClient) -> None:
    script = Script(errors(503, "busy"), xml(OK, **{"X-Try": "second"}))
    client, sleeps = make_client(script)
    raw = await client.with_raw_response(client.request, "Test", "echo")
    assert raw.attempts == 2
    assert raw.status == 200
    assert raw.headers["x-try"] == "second"
    assert raw.responses == 1  # one call, two attempts
    assert len(script.requests) == 2 and len(sleeps) == 1


async def test_a_generated_method_gives_its_typed_result(make_client: MakeClient) -> None:
    page = (
        "<response><total_results>1</total_results><results><result><id>7</id>"
        "<call_time_sec>42</call_time_sec></result></results></response>"
    )
    client, _ = make_client(Script(xml(page)))
    raw = await client.with_raw_response(client.calls.get_call_data, limit=10)
    assert raw.parsed["total_results"] == 1
    assert raw.parsed["results"]["result"][0]["call_time_sec"] == 42
    assert (raw.interface, raw.method) == ("Calls", "getCallData")
    assert b"<call_time_sec>42</call_time_sec>" in raw.body


async def test_a_json_body_is_kept_as_received(make_client: MakeClient) -> None:
    document = {"response": {"ok": "1"}}
    answer = httpx.Response(200, json=document)
    client, _ = make_client(Script(answer))
    raw = await client.with_raw_response(client.request, "Test", "echo", params={"output": "JSON"})
    assert raw.parsed == {"ok": "1"}
    assert json.loads(raw.body) == document
    assert raw.headers["content-type"] == "application/json"


async def test_a_binary_method_and_a_download(make_client: MakeClient, tmp_path: Path) -> None:
    audio = bytes(range(256)) * 40
    answer = httpx.Response(200, content=audio, headers={"content-type": "audio/mpeg"})
    client, _ = make_client(Script(answer))
    raw = await client.with_raw_response(client.calls.get_call_recording, id="9")
    assert raw.parsed == raw.body == audio
    assert raw.headers["content-length"] == str(len(audio))

    target = tmp_path / "9.mp3"
    saved = await client.with_raw_response(client.calls.get_call_recording_to_file, target, id="9")
    assert saved.parsed == len(audio) == target.stat().st_size
    assert saved.body == b""  # the bytes went to the file
    assert saved.status == 200 and saved.attempts == 1
    assert saved.headers["content-type"] == "audio/mpeg"


async def test_request_v1_and_a_view(make_client: MakeClient) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/rest/v1/"):
            return httpx.Response(200, json={"data": [1]})
        return xml(OK)

    client, _ = make_client(handler)
    raw = await client.with_raw_response(client.request_v1, "calls/insights")
    assert (raw.interface, raw.method, raw.status) == ("v1", "calls/insights", 200)
    assert json.loads(raw.body) == {"data": [1]}

    view = client.with_options(timeout=5, max_retries=0)
    seen = await view.with_raw_response(view.request, "Test", "echo")
    assert seen.status == 200 and seen.attempts == 1
    # Either client's with_raw_response sees either's calls: the capture is per task.
    crossed = await client.with_raw_response(view.request, "Test", "echo")
    assert crossed.status == 200


async def test_several_requests_give_the_last_and_count_them(make_client: MakeClient) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        number = request.url.params["n"]
        await asyncio.sleep(0.02 if number == "1" else 0)
        return xml(f"<response><n>{number}</n></response>", **{"X-N": number})

    client, _ = make_client(handler)

    async def two_calls() -> list[dict[str, Any] | bytes]:
        # Tasks started inside inherit the capture; "1" answers last.
        return list(
            await asyncio.gather(
                client.request("Test", "echo", params={"n": 1}),
                client.request("Test", "echo", params={"n": 2}),
            )
        )

    raw = await client.with_raw_response(two_calls)
    assert raw.responses == 2
    assert raw.parsed == [{"n": "1"}, {"n": "2"}]
    assert raw.headers["x-n"] == "1"

    async def nested() -> RawResponse[dict[str, Any] | bytes]:
        inner = await client.with_raw_response(client.request, "Test", "echo", params={"n": 2})
        await client.request("Test", "echo", params={"n": 2})
        return inner

    outer = await client.with_raw_response(nested)
    assert outer.parsed.responses == 1
    assert outer.responses == 2  # the inner capture's answer reaches the outer one too


async def test_concurrent_captures_stay_apart(make_client: MakeClient) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        await asyncio.sleep(0.01 if method == "first" else 0)
        return xml(OK, **{"X-Method": method})

    client, _ = make_client(handler)
    first, second = await asyncio.gather(
        client.with_raw_response(client.request, "Test", "first"),
        client.with_raw_response(client.request, "Test", "second"),
    )
    assert (first.headers["x-method"], first.responses) == ("first", 1)
    assert (second.headers["x-method"], second.responses) == ("second", 1)
    assert CAPTURE.get() is None


async def test_no_capture_outside_the_wrapper(make_client: MakeClient) -> None:
    client, _ = make_client(Script(xml(OK)))
    await client.with_raw_response(client.request, "Test", "echo")
    assert CAPTURE.get() is None
    assert await client.request("Test", "echo") == {"ok": "1"}


async def test_an_iterator_or_a_call_without_a_request_is_refused(
    make_client: MakeClient,
) -> None:
    script = Script(xml(OK))
    client, _ = make_client(script)
    with pytest.raises(ValidationError, match="iter_ method yields many pages"):
        await client.with_raw_response(client.bulk.iter_call_data, sdt="2026-01-01")  # type: ignore[arg-type]
    assert script.requests == []

    async def nothing() -> int:
        return 1

    with pytest.raises(ValidationError, match="received no API answer"):
        await client.with_raw_response(nothing)
    with pytest.raises(ValidationError, match="takes a client method"):
        await client.with_raw_response(42)  # type: ignore[arg-type]


async def test_an_error_raises_with_status_headers_body_and_attempts(
    make_client: MakeClient,
) -> None:
    script = Script(errors(503, "busy", **{"X-Id": "e1"}))
    client, _ = make_client(script, max_retries=2)
    with pytest.raises(ServerError) as caught:
        await client.with_raw_response(client.request, "Test", "echo")
    error = caught.value
    assert error.status == 503
    assert error.attempts == 3 == len(script.requests)
    assert error.headers["x-id"] == "e1"
    assert b'<error status="503">busy</error>' in error.body
    assert isinstance(error.headers, Headers)


async def test_an_error_never_carries_the_key(make_client: MakeClient) -> None:
    """A server echoing the key in headers and body: the error keeps neither."""
    echoed = (
        f"<html>bad request from key {SECRET} and user user</html>".encode(),
        {
            "secureKey": SECRET,
            "X-Echo": f"key={SECRET}",
            "Set-Cookie": "session=abc; Secure",
            "Authorization": "Basic abc",
            "Content-Type": "text/html",
        },
    )
    client, _ = make_client(Script(httpx.Response(400, content=echoed[0], headers=echoed[1])))
    with pytest.raises(BadRequestError) as caught:
        await client.request("Test", "echo")
    error = caught.value
    assert SECRET.encode() not in error.body
    assert b"bad request from key *** and user user" in error.body
    assert "securekey" not in error.headers and "set-cookie" not in error.headers
    assert "authorization" not in error.headers
    assert error.headers["x-echo"] == "key=***"
    assert error.headers["content-type"] == "text/html"
    assert SECRET not in repr(error.headers) + repr(error.body) + str(error)


async def test_a_success_never_shows_credential_headers(make_client: MakeClient) -> None:
    answer = xml(OK, **{"secureKey": SECRET, "X-Echo": SECRET, "Set-Cookie": "a=b"})
    client, _ = make_client(Script(answer))
    raw = await client.with_raw_response(client.request, "Test", "echo")
    assert "secureKey" not in raw.headers and "set-cookie" not in raw.headers
    assert raw.headers["x-echo"] == "***"


async def test_an_error_body_is_bounded(make_client: MakeClient) -> None:
    big = b"x" * (ERROR_BODY_BYTES * 3)
    client, _ = make_client(Script(httpx.Response(418, content=big)))
    with pytest.raises(APIError) as caught:
        await client.request("Test", "echo")
    assert caught.value.body == big[:ERROR_BODY_BYTES]


async def test_an_error_document_with_200_after_a_retry_counts_attempts(
    make_client: MakeClient,
) -> None:
    script = Script(errors(502, "gateway"), errors(200, "Node ID 1 of 1 does not exist"))
    client, _ = make_client(script)
    with pytest.raises(APIError) as caught:
        await client.request("Nodes", "getNodes")
    assert caught.value.attempts == 2
    assert caught.value.status == 200


async def test_a_decode_error_carries_the_answer(make_client: MakeClient) -> None:
    page = b"<html>proxy login</html>"
    answer = httpx.Response(200, content=page, headers={"content-type": "text/html"})
    client, _ = make_client(Script(answer))
    with pytest.raises(ResponseDecodeError) as caught:
        await client.calls.get_call_data(limit=1)
    error = caught.value
    assert (error.status, error.body, error.attempts) == (200, page, 1)
    assert error.headers["content-type"] == "text/html"


async def test_a_value_error_carries_the_answer(make_client: MakeClient) -> None:
    page = "<response><total_results>many</total_results></response>"
    client, _ = make_client(Script(xml(page)))
    with pytest.raises(ResponseDecodeError, match="total_results") as caught:
        await client.calls.get_call_data(limit=1)
    assert caught.value.status == 200 and b"many" in caught.value.body


def test_headers_are_a_read_only_case_insensitive_mapping() -> None:
    headers = Headers([("Vary", "a"), ("X-One", "1"), ("vary", "b")])
    assert headers["VARY"] == "a, b"
    assert headers.get_all("vary") == ["a", "b"]
    assert list(headers) == ["Vary", "X-One"]
    assert len(headers) == 2
    assert headers.get("missing") is None and 3 not in headers  # type: ignore[comparison-overlap]
    assert headers == {"Vary": "a, b", "X-One": "1"}
    with pytest.raises(TypeError):
        headers["x"] = "y"  # type: ignore[index]
