"""Only a real API answer is a success; every send on the wire is one the policy made."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from iovox_async import (
    APIError,
    AsyncIovox,
    BadRequestError,
    OutcomeUnknownError,
    ResponseDecodeError,
    TransportError,
    ValidationError,
)
from iovox_async.bulk import Bulk

from .rawserver import KEY, OK_XML, TRANSPORTS, Connection, answer_each, response, serving

pytestmark = pytest.mark.timeout(30)

LOGIN_PAGE = b"<html><head><title>Sign in</title></head><body><form/></body></html>"
ERRORS_XML = b'<?xml version="1.0"?><errors><error status="400">Items Empty</error></errors>'
EMPTY_PAGE = (
    b"<response><current_page>1</current_page><total_pages>1</total_pages>"
    b"<total_results>0</total_results><results/></response>"
)
ITEM = {"country_code": 44, "area_code": "151", "number_type": "GEOGRAPHIC", "quantity": 1}


def by_method(answers: dict[bytes, bytes]) -> Any:
    """Answer each request by the ``method=`` in its query string."""

    async def handler(connection: Connection) -> None:
        while (request := await connection.request()) is not None:
            line = request.split(b"\r\n", 1)[0]
            name = line.split(b"method=", 1)[1].split(b" ", 1)[0].split(b"&", 1)[0]
            await connection.send(answers[name])

    return handler


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (response(LOGIN_PAGE, content_type="text/html"), ResponseDecodeError),
        (response(LOGIN_PAGE, content_type="text/xml"), ResponseDecodeError),
        (response(ERRORS_XML), BadRequestError),
        (
            response(
                b'{"errors": {"error": {"status": "400", "#text": "Items Empty"}}}',
                content_type="application/json",
            ),
            BadRequestError,
        ),
    ],
)
async def test_a_200_that_is_no_api_answer_is_not_a_purchase(
    reply: bytes, error: type[Exception], client_for: Any
) -> None:
    async with serving(answer_each(reply)) as api, client_for(api.url) as client:
        with pytest.raises(error) as caught:
            await client.purchase.purchase_vox_numbers(items={"item": [ITEM]})  # type: ignore[list-item]
    if isinstance(caught.value, APIError):
        assert caught.value.status == 200
        assert caught.value.messages == ["Items Empty"]


async def test_bulk_purchase_reports_no_success_for_a_login_page(client_for: Any) -> None:
    answers = {
        b"getVoxnumbers": response(EMPTY_PAGE),
        b"getOrderDetails": response(EMPTY_PAGE),
        b"purchaseVoxNumbers": response(LOGIN_PAGE, content_type="text/html"),
    }
    async with serving(by_method(answers)) as api, client_for(api.url) as client:
        report = await Bulk(client).purchase_numbers([ITEM])
    assert report[0].status != "ok"
    assert report.counts["ok"] == 0


@pytest.mark.parametrize(
    ("body", "messages", "statuses"),
    [
        (
            b'{"errors": {"error": [{"status": "400", "#text": "Limit not an integer"},'
            b' {"@status": "400", "message": "Page Number not an integer"}]}}',
            ["Limit not an integer", "Page Number not an integer"],
            [400, 400],
        ),
        (
            b'{"response": {"errors": {"error": "Output Type Invalid"}}}',
            ["Output Type Invalid"],
            [None],
        ),
        (
            b'{"errors": {"error": {"@attributes": {"status": "400"}, "0": "Limit Empty"}}}',
            ["Limit Empty"],
            [400],
        ),
    ],
)
async def test_json_error_bodies_become_error_items(
    body: bytes, messages: list[str], statuses: list[int | None], client_for: Any
) -> None:
    reply = response(body, "400 Bad Request", content_type="application/json")
    async with serving(answer_each(reply)) as api, client_for(api.url) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.request("Calls", "getCallData", params={"output": "JSON"})
    assert caught.value.messages == messages
    assert [item.status for item in caught.value.errors] == statuses


@pytest.mark.parametrize(
    "body", [b'{"problem": "rate"}', b"plain words", b"<oops>half", b"\xff\xfe\x00binary"]
)
async def test_an_error_body_of_unknown_shape_keeps_its_text_and_status(
    body: bytes, client_for: Any
) -> None:
    reply = response(body, "418 I'm a teapot", content_type="text/plain")
    async with serving(answer_each(reply)) as api, client_for(api.url) as client:
        with pytest.raises(APIError) as caught:
            await client.request("Calls", "getCallData")
    assert caught.value.status == 418
    assert caught.value.errors == []
    assert caught.value.excerpt
    assert "418" in str(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_unsolicited_206_is_not_saved_as_a_recording(
    transport: str, client_for: Any, tmp_path: Path
) -> None:
    partial = response(
        b"\xff\xfb" * 100,
        "206 Partial Content",
        content_type="audio/mpeg",
        extra=b"Content-Range: bytes 0-199/5000\r\n",
    )
    whole = response(b"\xff\xfb" * 2500, content_type="audio/mpeg")
    async with (
        serving(answer_each(partial, whole)) as api,
        client_for(api.url, transport) as client,
    ):
        target = tmp_path / "call.mp3"
        with pytest.raises(ResponseDecodeError, match="206"):
            await client.calls.get_call_recording_to_file(target, id="1")
        assert list(tmp_path.iterdir()) == []
        assert await client.download("Calls", "getCallRecording", target) == 5000


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (response(b"\x00\x01binary", content_type="application/octet-stream"), "expected an XML"),
        (
            response("<response><a>1</a></response>".encode("utf-16"), content_type=""),
            "expected an XML",
        ),
    ],
)
async def test_a_document_method_never_returns_bytes(
    reply: bytes, match: str, client_for: Any
) -> None:
    async with serving(answer_each(reply)) as api, client_for(api.url) as client:
        with pytest.raises(ResponseDecodeError, match=match):
            await client.calls.get_call_data()


async def test_a_binary_method_never_returns_a_dict(client_for: Any) -> None:
    replies = (response(b"", content_type="audio/mpeg"), response(ERRORS_XML))
    async with serving(answer_each(*replies)) as api, client_for(api.url) as client:
        with pytest.raises(ResponseDecodeError, match="empty body"):
            await client.calls.get_call_recording(id="1")
        with pytest.raises(APIError, match="Items Empty"):
            await client.calls.get_call_recording(id="1")


def drop_second_on_each_connection() -> Any:
    """Answer the first request of a connection, then read the next and hang up."""

    async def handler(connection: Connection) -> None:
        await connection.request()
        await connection.send(response())
        await connection.request()

    return handler


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_no_request_is_sent_twice_behind_the_policy(transport: str, client_for: Any) -> None:
    async with serving(drop_second_on_each_connection()) as api:
        async with client_for(api.url, transport) as client:
            assert await client.request("Test", "echo") == {"ok": "1"}
            with pytest.raises(OutcomeUnknownError):
                await client.request("Test", "put", http_method="PUT", idempotent=False)
        puts = [r for r in api.requests if r.startswith(b"PUT ")]
        assert len(puts) == 1  # aiohttp would have sent it again on a fresh connection
        async with client_for(api.url, transport, max_retries=0) as client:
            await client.request("Test", "echo")
            with pytest.raises(TransportError) as caught:
                await client.request("Test", "echo")
        assert caught.value.attempts == 1
        assert len([r for r in api.requests if r.startswith(b"GET ")]) == 1 + 2


async def test_a_429_on_a_write_is_retried_after_its_retry_after(client_for: Any) -> None:
    limited = response(
        b'<errors><error status="429">Too Many Requests</error></errors>',
        "429 Too Many Requests",
        extra=b"Retry-After: 0.3\r\n",
    )
    created = response(b"<response><sms_activity_id>9</sms_activity_id></response>", "201 Created")
    served = serving(answer_each(limited, created))
    async with served as api, client_for(api.url, max_retries=2) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await client.sms.send_sms(origin="IOVOX", destination="447700900123", message="x")
        waited = loop.time() - started
    assert answer == {"sms_activity_id": "9"}
    assert len(api.requests) == 2  # 429 means "not applied": the one retry is safe
    assert waited >= 0.3


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=20,
    )
    return cert, key


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_certificate_error_is_never_retried(
    transport: str, self_signed: tuple[Path, Path]
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed)
    async with serving(answer_each(OK_XML), ssl=context) as api:
        url = f"https://127.0.0.1:{api.port}"
        async with AsyncIovox("user", KEY, base_url=url, transport=transport) as client:
            client._transport.policy.base_delay = 0.01
            with pytest.raises(TransportError, match="not retried") as caught:
                await client.request("Test", "echo")
    assert caught.value.attempts == 1
    assert api.requests == []


@pytest.mark.parametrize(("code", "attempts"), [(socket.EAI_NONAME, 1), (socket.EAI_AGAIN, 3)])
async def test_no_such_host_is_never_retried(code: int, attempts: int) -> None:
    tries = []

    async def handler(request: httpx.Request) -> httpx.Response:
        tries.append(request)
        try:
            raise socket.gaierror(code, "lookup failed")
        except socket.gaierror as cause:
            raise httpx.ConnectError("lookup failed") from cause

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncIovox("user", KEY, base_url="https://api.test", http_client=http, max_retries=2)
    client._transport.policy.base_delay = 0.0
    async with http, client:
        with pytest.raises(TransportError) as caught:
            await client.request("Test", "echo")
    assert caught.value.attempts == attempts == len(tries)


async def test_a_directory_destination_is_refused_before_sending(
    client_for: Any, tmp_path: Path
) -> None:
    served = serving(answer_each(response(b"\xff" * 10, content_type="audio/mpeg")))
    async with served as api, client_for(api.url) as client:
        with pytest.raises(ValidationError, match="is a directory"):
            await client.download("Calls", "getCallRecording", tmp_path)
    assert api.requests == []
