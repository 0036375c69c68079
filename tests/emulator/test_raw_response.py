"""Raw responses against the emulator over loopback HTTP, on both wires."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iovox_async import AsyncIovox, BadRequestError, ServerError
from iovox_async.testing import RunningEmulator

WIRES = ["aiohttp", "httpx"]


def fast(emulator: RunningEmulator, **options: object) -> AsyncIovox:
    client = emulator.client(**options)
    client._transport.policy.base_delay = 0.001
    return client


@pytest.mark.parametrize("transport", WIRES)
@pytest.mark.parametrize("output", ["XML", "JSON"])
async def test_a_page_with_its_answer(
    shared_emulator: RunningEmulator, transport: str, output: str
) -> None:
    async with shared_emulator.client(transport=transport) as iovox:
        raw = await iovox.with_raw_response(
            iovox.calls.get_call_data, sdt="2026-01-01", limit=10, output=output
        )
        plain = await iovox.calls.get_call_data(sdt="2026-01-01", limit=10, output=output)
    assert raw.parsed == plain
    assert len(raw.parsed["results"]["result"]) == 10
    assert raw.status == 200 and raw.attempts == 1 and raw.responses == 1
    assert int(raw.headers["Content-Length"]) == len(raw.body)
    if output == "XML":
        assert "xml" in raw.headers["content-type"]
        assert raw.body.lstrip().startswith(b"<?xml")
        first_id = raw.parsed["results"]["result"][0]["id"]
        assert f"<id>{first_id}</id>".encode() in raw.body
    else:
        assert "json" in raw.headers["content-type"]
        body = json.loads(raw.body)
        assert len(body["response"]["results"]["result"]) == 10
    assert "securekey" not in raw.headers
    assert raw.url.startswith(shared_emulator.base_url + "/Calls?v=3&method=getCallData")


async def test_a_retried_success(emulator: RunningEmulator) -> None:
    emulator.set_faults({"script": {"Countries.getCountries": ["503", "ok"]}})
    async with fast(emulator) as iovox:
        raw = await iovox.with_raw_response(iovox.countries.get_countries)
    assert raw.attempts == 2
    assert raw.status == 200
    assert raw.parsed["results"]["result"]


async def test_a_recording_and_its_download(
    shared_emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with shared_emulator.client() as iovox:
        page = await iovox.calls.get_call_data(
            sdt="2026-07-01", limit=100, req_fields=["id", "has_rec"]
        )
        call_id = next(
            row["id"] for row in page["results"]["result"] if row["has_recording"] is True
        )
        assert call_id is not None
        raw = await iovox.with_raw_response(iovox.calls.get_call_recording, id=call_id)
        assert raw.parsed == raw.body and raw.body[:3] == b"ID3"
        assert raw.headers["content-type"].startswith("audio/")
        target = tmp_path / "call.mp3"
        saved = await iovox.with_raw_response(
            iovox.download, "Calls", "getCallRecording", target, params={"id": call_id}
        )
    assert saved.parsed == len(raw.body) == target.stat().st_size
    assert saved.body == b"" and saved.status == 200


async def test_an_api_error_carries_the_answer(shared_emulator: RunningEmulator) -> None:
    async with shared_emulator.client() as iovox:
        with pytest.raises(BadRequestError) as caught:
            await iovox.with_raw_response(iovox.nodes.delete_nodes, node_ids=["no-such-node"])
    error = caught.value
    assert error.status == 400 and error.attempts == 1
    assert "xml" in error.headers["content-type"]
    assert b'<error status="400">Node ID 1 of 1 does not exist</error>' in error.body
    assert error.messages == ["Node ID 1 of 1 does not exist"]


async def test_a_server_error_after_retries(emulator: RunningEmulator) -> None:
    emulator.set_faults({"methods": {"Countries.getCountries": {"error_rate": 1.0}}})
    async with fast(emulator, max_retries=2) as iovox:
        with pytest.raises(ServerError) as caught:
            await iovox.countries.get_countries()
    assert caught.value.attempts == 3
    assert caught.value.status in (500, 502, 503)
    assert caught.value.body


async def test_a_bulk_job_inside_counts_every_page(shared_emulator: RunningEmulator) -> None:
    async with shared_emulator.client() as iovox:

        async def every_row() -> int:
            rows = 0
            async for _ in iovox.bulk.iter_call_data(
                sdt="2026-01-01", edt="2026-12-31", page_size=500
            ):
                rows += 1
            return rows

        raw = await iovox.with_raw_response(every_row)
    assert raw.parsed > 500
    assert raw.responses >= -(-raw.parsed // 500)  # at least one answer per page
    assert (raw.interface, raw.method, raw.status) == ("Calls", "getCallData", 200)
