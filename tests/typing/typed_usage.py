"""Checked by mypy --strict in test_types.py (never run): what the IDE and mypy know."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, assert_type

from iovox_async import APIError, AsyncIovox, Headers, RawResponse, RawXML
from iovox_async.interfaces.calls import CallDataResponse, CallDataResult
from iovox_async.interfaces.contacts import ContactsResult
from iovox_async.interfaces.nodes import NodesResponse, NodesResult


async def cdr_page(iovox: AsyncIovox) -> None:
    page = await iovox.calls.get_call_data(sdt=dt.datetime(2026, 10, 1), output="JSON")
    assert_type(page, CallDataResponse)
    assert_type(page["total_results"], int | None)
    row = page["results"]["result"][0]
    assert_type(row, CallDataResult)
    assert_type(row["call_start"], dt.datetime | None)
    assert_type(row["call_time_sec"], int | None)
    assert_type(row["has_recording"], bool | None)
    assert_type(row["id"], str | None)
    assert_type(row["voxnumber"], str | None)
    assert_type(row["categories"]["category"][0]["label"], str | None)


async def node_list(iovox: AsyncIovox) -> None:
    nodes = await iovox.nodes.get_nodes()
    assert_type(nodes, NodesResponse)
    assert_type(nodes["results"]["result"], list[NodesResult])


async def payload_with_raw_xml(iovox: AsyncIovox) -> None:
    # The README's example, verbatim in shape.
    await iovox.call_flow.create_call_flow(
        call_flow=RawXML('<callFlow name="Night Line"><call id="c1" label="Shop"/></callFlow>')
    )
    await iovox.call_flow.create_call_flow(call_flow={"@name": "Night Line"})


async def paged_rows(iovox: AsyncIovox) -> None:
    async for node in iovox.nodes.iter_nodes():
        assert_type(node, NodesResult)
        assert_type(node["node_id"], str | None)
    async with contextlib.aclosing(iovox.contacts.iter_contacts(page_size=500)) as contacts:
        async for contact in contacts:
            assert_type(contact, ContactsResult)
    async for cdr in iovox.calls.iter_call_data(sdt=dt.date(2026, 10, 1), prefetch=4):
        assert_type(cdr, CallDataResult)
        assert_type(cdr["call_start"], dt.datetime | None)


async def bulk_rows(iovox: AsyncIovox) -> None:
    async for row in iovox.bulk.iter_call_data(sdt=dt.date(2026, 10, 1)):
        assert_type(row, CallDataResult)
        assert_type(row["call_end"], dt.datetime | None)


async def recording(iovox: AsyncIovox) -> None:
    assert_type(await iovox.calls.get_call_recording(id="1"), bytes)


async def raw_responses(iovox: AsyncIovox) -> None:
    raw = await iovox.with_raw_response(iovox.calls.get_call_data, sdt=dt.date(2026, 10, 1))
    assert_type(raw, RawResponse[CallDataResponse])
    assert_type(raw.parsed, CallDataResponse)
    assert_type(raw.parsed["results"]["result"], list[CallDataResult])
    assert_type(raw.status, int)
    assert_type(raw.headers, Headers)
    assert_type(raw.headers.get("content-type"), str | None)
    assert_type(raw.body, bytes)
    assert_type(raw.attempts, int)
    assert_type(raw.elapsed, float)
    recording = await iovox.with_raw_response(iovox.calls.get_call_recording, id="1")
    assert_type(recording.parsed, bytes)
    saved = await iovox.with_raw_response(iovox.calls.get_call_recording_to_file, "a.mp3", id="1")
    assert_type(saved.parsed, int)
    any_method = await iovox.with_raw_response(iovox.request, "Calls", "getCallData")
    assert_type(any_method.parsed, dict[str, Any] | bytes)
    view = iovox.with_options(timeout=5)
    assert_type((await view.with_raw_response(view.nodes.get_nodes)).parsed, NodesResponse)
    try:
        await iovox.nodes.get_nodes()
    except APIError as error:
        assert_type(error.headers, Headers)
        assert_type(error.body, bytes)
        assert_type(error.attempts, int)
