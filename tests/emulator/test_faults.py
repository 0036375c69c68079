"""Fault injection: seeded replay, per-method settings, each fault's exact wire behaviour."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import httpx
import pytest

from iovox_async.emulator import ConnectionDropped, FaultSettings, create_app
from iovox_async.testing import RunningEmulator

from .helpers import call, errors

NODE = "<request><node><node_id>{id}</node_id><node_name>N</node_name><node_type>T</node_type></node></request>"
MIXED: dict[str, Any] = {
    "default": {
        "error_rate": 0.25,
        "rate_limit_rate": 0.1,
        "drop_rate": 0.1,
        "truncate_rate": 0.1,
        "retry_after": 0,
    }
}


async def _outcomes(emulator: RunningEmulator, count: int) -> list[str]:
    outcomes = []
    async with emulator.http_client() as client:
        for _ in range(count):
            try:
                response = await call(client, "GET", "Countries", "getCountries")
                outcomes.append(str(response.status_code))
            except httpx.TransportError as exc:
                outcomes.append(type(exc).__name__)
    return outcomes


async def test_the_same_seed_replays_the_same_faults() -> None:
    runs = []
    for seed in (11, 11, 12):
        with RunningEmulator(
            calls=50, seed=seed, faults=FaultSettings.from_json(MIXED)
        ) as emulator:
            runs.append(await _outcomes(emulator, 40))
            stats = emulator.stats()
            injected = sum(stats["faults"]["Countries.getCountries"].values())
            assert injected == sum(1 for outcome in runs[-1] if outcome != "200")
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {"200", "500", "429", "RemoteProtocolError"} <= set(runs[0]) | set(runs[2])


async def test_reset_replays_faults_from_the_start(emulator: RunningEmulator) -> None:
    emulator.set_faults(MIXED)
    first = await _outcomes(emulator, 20)
    emulator.reset()
    assert await _outcomes(emulator, 20) == first


async def test_per_method_and_per_interface_faults(
    emulator: RunningEmulator, fresh_http: httpx.AsyncClient
) -> None:
    emulator.set_faults(
        {
            "methods": {
                "Countries.getCountries": {"error_rate": 1},
                "Voxnumbers.*": {"error_rate": 1},
            }
        }
    )
    assert (await call(fresh_http, "GET", "Countries", "getCountries")).status_code in (
        500,
        502,
        503,
    )
    assert (await call(fresh_http, "GET", "Voxnumbers", "getVoxnumbers")).status_code in (
        500,
        502,
        503,
    )
    assert (await call(fresh_http, "GET", "Nodes", "getNodes")).status_code == 200


async def test_latency(emulator: RunningEmulator, fresh_http: httpx.AsyncClient) -> None:
    await call(fresh_http, "GET", "Countries", "getCountries")
    emulator.set_faults({"methods": {"Countries.getCountries": {"latency_ms": [120, 120]}}})
    started = time.perf_counter()
    await call(fresh_http, "GET", "Countries", "getCountries")
    assert time.perf_counter() - started >= 0.12
    started = time.perf_counter()
    await call(fresh_http, "GET", "Nodes", "getNodes", {"limit": "1"})
    assert time.perf_counter() - started < 0.12


async def test_server_errors_and_rate_limits(
    emulator: RunningEmulator, fresh_http: httpx.AsyncClient
) -> None:
    emulator.set_faults(
        {
            "default": {"retry_after": 3},
            "script": {"Countries.getCountries": ["500", "503", "502-html", "429", "ok"]},
        }
    )
    first = await call(fresh_http, "GET", "Countries", "getCountries")
    assert first.status_code == 500
    assert first.content == (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<errors><error status="500">Internal Server Error</error></errors>'
    )
    second = await call(fresh_http, "GET", "Countries", "getCountries")
    assert errors(second) == [(503, "Service Unavailable")]
    third = await call(fresh_http, "GET", "Countries", "getCountries")
    assert third.status_code == 502
    assert third.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in third.content
    fourth = await call(fresh_http, "GET", "Countries", "getCountries")
    assert fourth.status_code == 429
    assert fourth.headers["retry-after"] == "3"
    assert errors(fourth) == [(429, "Too Many Requests")]
    assert (await call(fresh_http, "GET", "Countries", "getCountries")).status_code == 200
    stats = emulator.stats()
    assert stats["faults"]["Countries.getCountries"] == {
        "429": 1,
        "500": 1,
        "502-html": 1,
        "503": 1,
    }


async def test_errors_before_the_method_apply_nothing(
    emulator: RunningEmulator, fresh_http: httpx.AsyncClient
) -> None:
    emulator.set_faults({"script": {"Nodes.createNodes": ["500"]}})
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=NODE.format(id="F1"))
    assert response.status_code == 500
    assert "F1" not in emulator.state.nodes
    assert emulator.effects("Nodes.createNodes") == 0


async def test_drop_after_the_effect_with_httpx(
    emulator: RunningEmulator, fresh_http: httpx.AsyncClient
) -> None:
    emulator.set_faults({"script": {"Nodes.createNodes": ["drop"]}})
    with pytest.raises(httpx.RemoteProtocolError):
        await call(fresh_http, "POST", "Nodes", "createNodes", body=NODE.format(id="D1"))
    assert "D1" in emulator.state.nodes
    stats = emulator.stats()
    assert stats["effects"]["Nodes.createNodes"] == 1
    assert stats["requests"]["Nodes.createNodes"] == 1
    assert stats["faults"]["Nodes.createNodes"] == {"drop": 1}


async def test_drop_after_the_effect_with_aiohttp(emulator: RunningEmulator) -> None:
    emulator.set_faults({"script": {"Nodes.createNodes": ["drop"]}})
    url = f"{emulator.base_url}/Nodes"
    async with aiohttp.ClientSession(headers=emulator.headers) as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(
                url, params={"v": "3", "method": "createNodes"}, data=NODE.format(id="D2")
            ):
                pass
    assert "D2" in emulator.state.nodes
    assert emulator.effects("Nodes.createNodes") == 1


async def test_truncated_body_keeps_the_full_content_length(emulator: RunningEmulator) -> None:
    emulator.set_faults({"script": {"Voxnumbers.getVoxnumbers": ["truncate"]}})
    reader, writer = await asyncio.open_connection(emulator.host, emulator.port)
    writer.write(
        b"GET /Voxnumbers?v=3&method=getVoxnumbers HTTP/1.1\r\nHost: x\r\n"
        + f"username: {emulator.username}\r\nsecureKey: {emulator.secure_key}\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert 0 < len(body) < length
    async with emulator.http_client() as client:
        emulator.set_faults({"script": {"Voxnumbers.getVoxnumbers": ["truncate"]}})
        with pytest.raises(httpx.RemoteProtocolError):
            await call(client, "GET", "Voxnumbers", "getVoxnumbers")


async def test_admin_endpoints(emulator: RunningEmulator) -> None:
    async with (
        httpx.AsyncClient(base_url=emulator.base_url) as admin,
        emulator.http_client() as api,
    ):
        settings = {
            "default": {"latency_ms": [1, 2]},
            "methods": {"Calls.getCallData": {"error_rate": 0.5}},
        }
        put = await admin.put("/_emulator/faults", json=settings)
        assert put.status_code == 200
        assert (await admin.get("/_emulator/faults")).json() == {**settings, "script": {}}
        flat = await admin.put("/_emulator/faults", json={"drop_rate": 0.0})
        assert flat.json()["default"] == {"drop_rate": 0.0}
        bad = await admin.put("/_emulator/faults", json={"error_rate": 2})
        assert bad.status_code == 400
        await admin.delete("/_emulator/faults")
        for node_id in ("S1", "S2"):
            await call(api, "POST", "Nodes", "createNodes", body=NODE.format(id=node_id))
        await call(api, "POST", "Nodes", "createNodes", body=NODE.format(id="S1"))
        stats = (await admin.get("/_emulator/stats")).json()
        assert stats["requests"]["Nodes.createNodes"] == 3
        assert stats["effects"] == {"Nodes.createNodes": 2}
        assert stats["statuses"] == {"201": 2, "400": 1}
        state = (await admin.get("/_emulator/state")).json()
        assert state["calls"] == 600
        nodes = state["nodes"]
        reset = await admin.post("/_emulator/reset")
        assert reset.json()["state"]["nodes"] == nodes - 2
        assert (await admin.get("/_emulator/stats")).json()["total_requests"] == 0
        assert (await admin.delete("/_emulator/stats")).status_code == 200


async def test_in_process_drop_looks_like_a_native_disconnect() -> None:
    app = create_app(calls=20, faults=FaultSettings(script={"*": ("drop",)}))
    headers = {"username": app.config.username, "secureKey": app.config.secure_key}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator", headers=headers
    ) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await call(client, "GET", "Countries", "getCountries")
        assert isinstance(caught.value, ConnectionDropped)
        assert (await call(client, "GET", "Countries", "getCountries")).status_code == 200
