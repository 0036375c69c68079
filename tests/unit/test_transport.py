"""The transport's rules, each with a test that fails when the rule breaks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import aiohttp
import anyio
import httpx
import pytest

from iovox_async import (
    APIError,
    AuthenticationError,
    BadRequestError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)

from .conftest import SECRET, errors, xml

OK = "<response><ok>1</ok></response>"


class Counter:
    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, httpx.Response)
        return item


async def test_headers_and_query_on_the_wire(make_client: Callable[..., Any]) -> None:
    handler = Counter(xml(OK))
    client, _ = make_client(handler)
    result = await client.request("Test", "echo", params={"limit": 5, "node_ids": [1, 2]})
    assert result == {"ok": "1"}
    request = handler.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/Test"
    assert request.url.params.multi_items()[:2] == [("v", "3"), ("method", "echo")]
    assert request.url.params["limit"] == "5"
    assert request.url.params["node_ids"] == "1,2"
    assert request.headers["username"] == "user"
    assert request.headers["secureKey"] == SECRET
    assert "cookie" not in request.headers


async def test_post_sends_the_xml_payload(make_client: Callable[..., Any]) -> None:
    handler = Counter(httpx.Response(201))
    client, _ = make_client(handler)
    result = await client.request(
        "Nodes",
        "createNodes",
        http_method="POST",
        payload={"nodes": {"node": [{"node_id": "a", "flag": True}, {"node_id": "b"}]}},
    )
    assert result == {}
    request = handler.requests[0]
    assert request.headers["content-type"].startswith("application/xml")
    body = request.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert "<request><nodes><node><node_id>a</node_id><flag>TRUE</flag></node>" in body


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_safe_calls_retry_5xx_up_to_the_limit(
    make_client: Callable[..., Any], status: int
) -> None:
    handler = Counter(errors(status, "Internal Server Error"))
    client, sleeps = make_client(handler, max_retries=3)
    with pytest.raises(ServerError) as caught:
        await client.request("Test", "echo")
    assert len(handler.requests) == 4
    assert caught.value.attempts == 4
    assert caught.value.status == status
    assert len(sleeps) == 3
    assert "after 4 attempts" in str(caught.value)


async def test_a_retry_that_succeeds_returns_the_body(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(503, "busy"), errors(500, "oops"), xml(OK))
    client, _ = make_client(handler)
    assert await client.request("Test", "echo") == {"ok": "1"}
    assert len(handler.requests) == 3
    assert client.retries_taken == 2


@pytest.mark.parametrize(
    "status,cls",
    [(400, BadRequestError), (401, AuthenticationError), (403, APIError), (404, APIError)],
)
async def test_4xx_is_never_retried(
    make_client: Callable[..., Any], status: int, cls: type[APIError]
) -> None:
    handler = Counter(errors(status, "nope"))
    client, _ = make_client(handler)
    with pytest.raises(cls) as caught:
        await client.request("Test", "echo")
    assert len(handler.requests) == 1
    assert type(caught.value) is cls


async def test_authentication_error_mentions_ip_allow_list(make_client: Callable[..., Any]) -> None:
    client, _ = make_client(Counter(errors(401, "HTTP 401: Unauthorized")))
    with pytest.raises(AuthenticationError) as caught:
        await client.request("Test", "echo")
    assert "allow-listed IP" in str(caught.value)
    assert caught.value.messages == ["HTTP 401: Unauthorized"]
    assert "Test.echo failed with HTTP 401: Unauthorized" in str(caught.value)  # said once


async def test_post_is_not_retried_after_a_500(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(500, "Internal Server Error"), xml(OK))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.request("Purchase", "purchaseVoxNumbers", http_method="POST", payload={"a": 1})
    assert len(handler.requests) == 1
    assert "get_order_details" in str(caught.value)
    assert isinstance(caught.value.__cause__, ServerError)


async def test_post_is_not_retried_after_a_read_timeout(make_client: Callable[..., Any]) -> None:
    handler = Counter(httpx.ReadTimeout("slow"), xml(OK))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError):
        await client.request("SMS", "sendSms", http_method="POST", payload={"a": 1})
    assert len(handler.requests) == 1


async def test_post_is_retried_after_a_connect_error(make_client: Callable[..., Any]) -> None:
    handler = Counter(httpx.ConnectError("refused"), httpx.Response(201))
    client, _ = make_client(handler)
    assert await client.request("SMS", "sendSms", http_method="POST", payload={"a": 1}) == {}
    assert len(handler.requests) == 2


def _mapped(httpx_class: type[httpx.TransportError], cause: BaseException) -> BaseException:
    """An httpx error raised from an aiohttp cause, as httpx-aiohttp does."""
    try:
        raise httpx_class(str(cause)) from cause
    except httpx.TransportError as exc:
        return exc


async def test_aiohttp_disconnect_mapped_to_connect_timeout_is_not_retried_for_post(
    make_client: Callable[..., Any],
) -> None:
    # httpx-aiohttp maps ServerDisconnectedError to httpx.ConnectTimeout: the POST was sent.
    failure = _mapped(httpx.ConnectTimeout, aiohttp.ServerDisconnectedError())
    handler = Counter(failure, httpx.Response(201))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError):
        await client.request("Purchase", "purchaseVoxNumbers", http_method="POST", payload={"a": 1})
    assert len(handler.requests) == 1


async def test_aiohttp_connector_error_is_retried_for_post(make_client: Callable[..., Any]) -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, True, None, None, None, None)
    failure = _mapped(
        httpx.ConnectError, aiohttp.ClientConnectorError(key, OSError(111, "refused"))
    )
    handler = Counter(failure, httpx.Response(201))
    client, _ = make_client(handler)
    assert await client.request("SMS", "sendSms", http_method="POST", payload={"a": 1}) == {}
    assert len(handler.requests) == 2


async def test_get_is_retried_after_a_dropped_connection(make_client: Callable[..., Any]) -> None:
    handler = Counter(httpx.RemoteProtocolError("Server disconnected"), xml(OK))
    client, _ = make_client(handler)
    assert await client.request("Test", "echo") == {"ok": "1"}
    assert len(handler.requests) == 2


async def test_network_failure_after_retries_is_a_transport_error(
    make_client: Callable[..., Any],
) -> None:
    handler = Counter(httpx.ReadTimeout("slow"))
    client, _ = make_client(handler, max_retries=2)
    with pytest.raises(TransportError) as caught:
        await client.request("Test", "echo")
    assert "timed out" in str(caught.value)
    assert caught.value.attempts == 3


async def test_idempotent_opt_in_retries_a_post(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(500, "oops"), httpx.Response(201))
    client, _ = make_client(handler)
    await client.request(
        "Nodes", "updateNodes", http_method="POST", payload={"a": 1}, idempotent=True
    )
    assert len(handler.requests) == 2


async def test_retry_after_is_honoured(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(429, "Too Many Requests", **{"Retry-After": "7"}), xml(OK))
    client, sleeps = make_client(handler)
    assert await client.request("Test", "echo") == {"ok": "1"}
    assert len(sleeps) == 1
    assert 7.0 <= sleeps[0] <= 7.0 + client._transport.policy.base_delay


async def test_a_429_on_a_post_is_retried_after_retry_after(
    make_client: Callable[..., Any],
) -> None:
    # 429 means the request was refused before it was applied: safe to send again.
    handler = Counter(errors(429, "Too Many Requests", **{"Retry-After": "3"}), xml(OK))
    client, sleeps = make_client(handler)
    answer = await client.request("SMS", "sendSms", http_method="POST", payload={"a": 1})
    assert answer == {"ok": "1"}
    assert len(handler.requests) == 2
    assert sleeps and sleeps[0] >= 3.0


async def test_an_error_message_is_built_once_with_its_attempts(
    make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    describe = APIError._describe

    def counting(self: APIError) -> str:
        built.append(self.attempts)
        return describe(self)

    monkeypatch.setattr(APIError, "_describe", counting)
    handler = Counter(errors(503, "Service Unavailable"))
    client, _ = make_client(handler, max_retries=2)
    with pytest.raises(ServerError, match="after 3 attempts") as caught:
        await client.request("Test", "echo")
    assert caught.value.args == (str(caught.value),)
    assert built == [1, 2, 3]  # one message per error raised, never rewritten afterwards


async def test_rate_limit_error_after_retries_carries_retry_after(
    make_client: Callable[..., Any],
) -> None:
    handler = Counter(errors(429, "Too Many Requests", **{"Retry-After": "2"}))
    client, _ = make_client(handler, max_retries=1)
    with pytest.raises(RateLimitError) as caught:
        await client.request("Test", "echo")
    assert caught.value.retry_after == 2.0


async def test_backoff_is_full_jitter_and_capped(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(503, "busy"))
    client, sleeps = make_client(handler, max_retries=8, retry_deadline=1000)
    policy = client._transport.policy
    policy.base_delay, policy.max_delay = 1.0, 4.0
    with pytest.raises(ServerError):
        await client.request("Test", "echo")
    assert len(sleeps) == 8
    for number, delay in enumerate(sleeps, start=1):
        assert 0 <= delay <= min(4.0, 2 ** (number - 1))


async def test_backoff_is_bounded_by_the_deadline(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(503, "busy"))
    client, sleeps = make_client(handler, max_retries=50, retry_deadline=3.0)
    policy = client._transport.policy
    policy.base_delay = policy.max_delay = 1.0
    policy.rng.seed(1)
    with pytest.raises(ServerError):
        await client.request("Test", "echo")
    assert 0 < sum(sleeps) <= 3.0
    assert len(handler.requests) < 51
    assert len(handler.requests) == len(sleeps) + 1


async def test_per_call_retry_override(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(503, "busy"))
    client, _ = make_client(handler, max_retries=5)
    with pytest.raises(ServerError):
        await client.request("Test", "echo", max_retries=0)
    assert len(handler.requests) == 1


async def test_per_call_timeout_reaches_the_request(make_client: Callable[..., Any]) -> None:
    handler = Counter(xml(OK))
    client, _ = make_client(handler, timeout=30)
    await client.request("Test", "echo", timeout=2.5)
    await client.request("Test", "echo")
    assert handler.requests[0].extensions["timeout"]["read"] == 2.5
    assert handler.requests[1].extensions["timeout"]["read"] == 30


async def test_the_limiter_is_never_exceeded(make_client: Callable[..., Any]) -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.005)
        in_flight -= 1
        return xml(OK)

    client, _ = make_client(handler, max_concurrency=5)
    async with anyio.create_task_group() as group:
        for _ in range(40):
            group.start_soon(client.request, "Test", "echo")
    assert peak == 5


async def test_the_limiter_is_not_held_while_backing_off(make_client: Callable[..., Any]) -> None:
    handler = Counter(errors(503, "busy"), xml(OK))
    client, _ = make_client(handler, max_concurrency=1)
    limiter = client._transport.limiter

    async def observing_sleep(seconds: float) -> None:
        assert limiter.borrowed_tokens == 0

    client._transport.policy.sleep = observing_sleep
    assert await client.request("Test", "echo") == {"ok": "1"}


async def test_a_cancelled_call_releases_its_limiter_slot(make_client: Callable[..., Any]) -> None:
    release = anyio.Event()
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
        return xml(OK)

    client, _ = make_client(handler, max_concurrency=1)
    with anyio.move_on_after(0.05):
        await client.request("Test", "echo")
    assert client._transport.limiter.borrowed_tokens == 0
    with anyio.fail_after(2):
        assert await client.request("Test", "echo") == {"ok": "1"}
    assert calls == 2  # the cancelled call was not retried


async def test_several_errors_become_items(make_client: Callable[..., Any]) -> None:
    client, _ = make_client(Counter(errors(400, "API Version Empty", "XML Empty")))
    with pytest.raises(BadRequestError) as caught:
        await client.request("Test", "echo")
    assert [(i.status, i.message) for i in caught.value.errors] == [
        (400, "API Version Empty"),
        (400, "XML Empty"),
    ]
    assert caught.value.interface == "Test" and caught.value.method == "echo"
    assert "API Version Empty; XML Empty" in str(caught.value)


async def test_a_bare_error_element_parses(make_client: Callable[..., Any]) -> None:
    body = '\n\n    <error status="401">HTTP 401: Unauthorized</error>'
    client, _ = make_client(Counter(xml(body, 401)))
    with pytest.raises(AuthenticationError) as caught:
        await client.request("Test", "echo")
    assert caught.value.errors[0].message == "HTTP 401: Unauthorized"


async def test_html_502_page_raises_server_error_with_excerpt(
    make_client: Callable[..., Any],
) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    handler = Counter(httpx.Response(502, text=page, headers={"content-type": "text/html"}))
    client, _ = make_client(handler, max_retries=1)
    with pytest.raises(ServerError) as caught:
        await client.request("Test", "echo")
    assert caught.value.errors == []
    assert "502 Bad Gateway" in (caught.value.excerpt or "")


async def test_empty_error_body_still_picks_its_class(make_client: Callable[..., Any]) -> None:
    client, _ = make_client(Counter(httpx.Response(400)))
    with pytest.raises(BadRequestError) as caught:
        await client.request("Test", "echo")
    assert "empty body" in str(caught.value)


async def test_malformed_xml_is_a_decode_error(make_client: Callable[..., Any]) -> None:
    client, _ = make_client(Counter(xml("<response><a>1</b></response>")))
    with pytest.raises(ResponseDecodeError, match="malformed XML"):
        await client.request("Test", "echo")


async def test_html_success_body_is_a_decode_error(make_client: Callable[..., Any]) -> None:
    response = httpx.Response(200, text="<p>maintenance", headers={"content-type": "text/html"})
    client, _ = make_client(Counter(response))
    with pytest.raises(ResponseDecodeError):
        await client.request("Test", "echo")


async def test_entity_bomb_is_refused_without_hanging(make_client: Callable[..., Any]) -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 30))
    bomb = f'<!DOCTYPE r [<!ENTITY e0 "boom">{entities}]><response>&e29;</response>'
    client, _ = make_client(Counter(xml(bomb)))
    with anyio.fail_after(2), pytest.raises(ResponseDecodeError, match="document type"):
        await client.request("Test", "echo")


async def test_binary_body_comes_back_as_bytes(make_client: Callable[..., Any]) -> None:
    audio = b"ID3\x03\x00" + bytes(range(256)) * 10
    response = httpx.Response(200, content=audio, headers={"content-type": "audio/mpeg"})
    client, _ = make_client(Counter(response))
    assert await client.request("Calls", "getCallRecording", params={"id": 1}) == audio


async def test_json_output_is_normalised(make_client: Callable[..., Any]) -> None:
    body = b'{"response": {"current_page": "1", "results": {"result": {"id": "9"}}}}'
    response = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    client, _ = make_client(Counter(response))
    result = await client.request("Calls", "getCallData", params={"output": "JSON"})
    assert result["current_page"] == "1"
    rows = result["results"]["result"]
    assert isinstance(rows, list) and len(rows) == 1 and rows[0]["id"] == "9"
    assert "categories" not in rows[0]  # absent containers are not invented


async def test_the_key_never_appears_in_logs_reprs_or_errors(
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    handler = Counter(
        errors(500, "oops"),
        errors(401, "HTTP 401: Unauthorized"),
        httpx.ConnectError(f"refused {SECRET}"),
    )
    client, _ = make_client(handler, max_retries=1)
    texts: list[str] = [repr(client), str(client)]
    with caplog.at_level(logging.DEBUG, logger="iovox_async"):
        for _ in range(3):
            try:
                await client.request("Test", "echo")
            except Exception as exc:
                texts += [str(exc), repr(exc), str(exc.__cause__)]
        logging.getLogger("iovox_async").debug("leak attempt %s", SECRET)
    texts += [record.getMessage() for record in caplog.records]
    assert any("echo attempt 1: HTTP 500" in t for t in texts)
    leaked = [t for t in texts[:-1] if SECRET in t and "refused" not in t]
    assert leaked == []
    assert all(SECRET not in record.getMessage() for record in caplog.records)


async def test_one_debug_line_per_attempt(
    make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    handler = Counter(errors(503, "busy"), xml(OK))
    client, _ = make_client(handler)
    with caplog.at_level(logging.DEBUG, logger="iovox_async"):
        await client.request("Test", "echo")
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "iovox_async" and r.levelno == logging.DEBUG
    ]
    (retry,) = [
        r.getMessage()
        for r in caplog.records
        if r.name == "iovox_async" and r.levelno == logging.INFO
    ]
    assert re.fullmatch(r"Test\.echo: retry 1 of 4 in \d+\.\d\ds after HTTP 503", retry)
    assert len(lines) == 2
    assert "GET Test.echo attempt 1: HTTP 503 in" in lines[0]
    assert "GET Test.echo attempt 2: HTTP 200 in" in lines[1]


ITEMS = {"item": [{"country_code": 44, "number_type": "TOLLFREE", "quantity": 1}]}


async def test_generated_calls_take_per_call_retry_settings(
    make_client: Callable[..., Any],
) -> None:
    handler = Counter(errors(500, "Internal Server Error"), httpx.Response(201))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError):  # a purchase is not repeated by default
        await client.purchase.purchase_vox_numbers(items=ITEMS)
    assert len(handler.requests) == 1

    handler = Counter(errors(500, "Internal Server Error"), httpx.Response(201))
    client, _ = make_client(handler)
    # The caller knows repeating it is harmless: retried like a read.
    assert await client.purchase.purchase_vox_numbers(items=ITEMS, idempotent=True) == {}
    assert len(handler.requests) == 2

    handler = Counter(errors(503, "Service Unavailable"), xml(OK))
    client, _ = make_client(handler)
    with pytest.raises(ServerError):
        await client.calls.get_call_metrics(max_retries=0)
    assert len(handler.requests) == 1
    for bad in (-1, 1.5, True):
        with pytest.raises(ValidationError, match="max_retries"):
            await client.calls.get_call_metrics(max_retries=bad)
        with pytest.raises(ValidationError, match="max_retries"):
            await client.request("Calls", "getCallMetrics", max_retries=bad)
    assert len(handler.requests) == 1


def test_aiohttp_times_the_gap_between_bytes_only_without_a_total() -> None:
    # A per-read timer costs two timer handles per response; the total bounds it all.
    from iovox_async._wire import AiohttpWire, Timeouts

    wire = AiohttpWire(4)
    bounded = Timeouts(read=2.0, connect=1.0, total=2.2)
    timeout = wire._timeout(bounded)
    assert (timeout.total, timeout.connect, timeout.sock_connect) == (2.2, 2.0, 1.0)
    assert timeout.sock_read is None
    assert wire._timeout(bounded) is timeout  # built once
    assert wire._timeout(Timeouts(read=2.0, connect=1.0)).sock_read == 2.0  # a stream
