"""AsyncIovox settings and lifecycle."""

from __future__ import annotations

import httpx
import pytest

from iovox_async import AsyncIovox, ClientClosedError, ValidationError
from iovox_async._wire import AiohttpWire, HttpxWire

from .conftest import SECRET


def test_environments_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IOVOX_BASE_URL", "IOVOX_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    assert AsyncIovox("u", "k").base_url == "https://sandboxapi.iovox.com:444"
    assert AsyncIovox("u", "k", environment="production").base_url == "https://api.iovox.com:444"
    assert (
        AsyncIovox("u", "k", base_url="http://127.0.0.1:8080/").base_url == "http://127.0.0.1:8080"
    )
    assert AsyncIovox("u", "k", base_url="http://localhost:1").base_url == "http://localhost:1"
    assert AsyncIovox("u", "k", base_url="http://[::1]:1").base_url == "http://[::1]:1"
    with pytest.raises(ValidationError, match="https"):
        AsyncIovox("u", "k", base_url="http://api.iovox.com:444")
    with pytest.raises(ValidationError, match="unknown environment"):
        AsyncIovox("u", "k", environment="staging")
    with pytest.raises(ValidationError, match="not both"):
        AsyncIovox("u", "k", environment="sandbox", base_url="https://x.test")


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOVOX_USERNAME", "env-user")
    monkeypatch.setenv("IOVOX_SECURE_KEY", "env-key")
    monkeypatch.setenv("IOVOX_ENVIRONMENT", "production")
    monkeypatch.delenv("IOVOX_BASE_URL", raising=False)
    client = AsyncIovox()
    assert client.username == "env-user"
    assert client.base_url == "https://api.iovox.com:444"
    monkeypatch.setenv("IOVOX_BASE_URL", "http://127.0.0.1:9")
    assert AsyncIovox().base_url == "http://127.0.0.1:9"


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOVOX_USERNAME", raising=False)
    monkeypatch.delenv("IOVOX_SECURE_KEY", raising=False)
    with pytest.raises(ValidationError, match="username"):
        AsyncIovox()
    with pytest.raises(ValidationError, match="secure_key"):
        AsyncIovox("u")


def test_repr_hides_the_key() -> None:
    client = AsyncIovox("user", SECRET, base_url="https://x.test")
    assert SECRET not in repr(client)
    assert SECRET not in str(vars(client).get("_transport"))
    assert "user" in repr(client)


async def test_closed_client_refuses_calls() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncIovox("u", "k", base_url="https://x.test", http_client=http) as client:
        assert await client.request("A", "b") == {}
    assert client.closed
    with pytest.raises(ClientClosedError):
        await client.request("A", "b")
    with pytest.raises(ClientClosedError):
        await client.calls.get_call_data()
    # An injected client is used as given and never closed by us.
    assert not http.is_closed
    await http.aclose()


async def test_owned_client_is_built_lazily_and_closed() -> None:
    client = AsyncIovox("u", "k", base_url="http://127.0.0.1:9", transport="httpx")
    assert client._wire is None
    wire = client._get_wire()
    assert isinstance(wire, HttpxWire)
    await client.aclose()
    assert wire.client.is_closed


async def test_default_wire_on_asyncio_is_aiohttp_and_closes_its_session() -> None:
    client = AsyncIovox("u", "k", base_url="http://127.0.0.1:9")
    wire = client._get_wire()
    assert isinstance(wire, AiohttpWire)
    session = wire._get_session()
    await client.aclose()
    assert session.closed


async def test_raw_request_rejects_bad_arguments_before_sending() -> None:
    sent: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncIovox("u", "k", base_url="https://x.test", http_client=http)
    with pytest.raises(ValidationError):
        await client.request("A", "b", http_method="PATCH")
    with pytest.raises(ValidationError):
        await client.request("A", "b", payload={"x": 1})  # GET takes no payload
    with pytest.raises(ValidationError):
        await client.request("", "b")
    for interface, method in (("Calls/../Nodes", "getNodes"), ("Calls", "get?x=1"), ("A#", "b")):
        with pytest.raises(ValidationError, match="API name"):
            await client.request(interface, method)
    for reserved in ({"method": "deleteNodes"}, {"v": "2"}):
        with pytest.raises(ValidationError, match="must not set"):
            await client.request("Calls", "getCallData", params=reserved)
        with pytest.raises(ValidationError, match="must not set"):
            await client.download("Calls", "getCallRecording", "x.mp3", params=reserved)
    assert sent == []
    await client.request("Calls", "getCallData", params={"limit": 1})
    assert len(sent) == 1


@pytest.mark.parametrize("bad", [{"max_concurrency": 0}, {"max_retries": -1}, {"timeout": 0}])
def test_bad_settings(bad: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        AsyncIovox("u", "k", base_url="https://x.test", **bad)  # type: ignore[arg-type]


def test_a_client_refuses_a_second_event_loop() -> None:
    import asyncio

    client = AsyncIovox("u", "k", base_url="http://127.0.0.1:9")

    async def touch() -> None:
        client._get_wire()

    asyncio.run(touch())
    with pytest.raises(ClientClosedError, match="event loop"):
        asyncio.run(touch())


def test_trio_uses_the_native_transport() -> None:
    import trio

    from iovox_async._wire import resolve_transport

    async def main() -> tuple[str, int]:
        async def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(204)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncIovox("u", "k", base_url="https://x.test", http_client=http) as client:
            await client.request("A", "b")
        return resolve_transport("auto"), len(client._transport.limiter.statistics().borrowers)

    kind, borrowers = trio.run(main)
    assert kind == "httpx"
    assert borrowers == 0
