"""List pages: the envelope, JSON output, call data filters, fields, order and windows."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import httpx

from iovox_async.emulator.calldata import FIELDS
from iovox_async.testing import RunningEmulator

from .helpers import call, results, text

WINDOW = {"sdt": "2026-07-01", "edt": "2026-10-31"}


def envelope(response: httpx.Response) -> tuple[int, int, int]:
    root = ET.fromstring(response.content)
    return (
        int(text(root, "current_page")),
        int(text(root, "total_pages")),
        int(text(root, "total_results")),
    )


async def test_envelope_and_page_arithmetic(http: httpx.AsyncClient) -> None:
    first = await call(http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "700"})
    page, pages, total = envelope(first)
    assert (page, total) == (1, 3_000)
    assert pages == math.ceil(total / 700) == 5
    assert len(results(first)) == 700
    last = await call(http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "700", "page": "5"})
    assert envelope(last) == (5, 5, 3_000)
    assert len(results(last)) == 3_000 - 4 * 700
    beyond = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "700", "page": "9"}
    )
    assert envelope(beyond) == (9, 5, 3_000)
    assert results(beyond) == []
    assert b"<results/>" in beyond.content


async def test_paging_reads_every_record_once_newest_first(http: httpx.AsyncClient) -> None:
    seen: list[str] = []
    starts: list[str] = []
    page = 1
    while True:
        response = await call(
            http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "1000", "page": page}
        )
        current, pages, total = envelope(response)
        for row in results(response):
            seen.append(text(row, "id"))
            starts.append(text(row, "call_start"))
        if current >= pages:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total == 3_000
    assert starts == sorted(starts, reverse=True)
    row = results(response)[0]
    assert [child.tag for child in row] == list(FIELDS)


async def test_json_output(http: httpx.AsyncClient) -> None:
    response = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "2", "output": "JSON"}
    )
    assert response.headers["content-type"] == "application/json"
    data = response.json()["response"]
    assert (data["current_page"], data["total_pages"], data["total_results"]) == (
        "1",
        "1500",
        "3000",
    )
    rows = data["results"]["result"]
    assert isinstance(rows, list) and len(rows) == 2
    assert all(isinstance(value, str) for value in rows[0].values())
    one = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "limit": "1", "output": "json"}
    )
    single = one.json()["response"]["results"]["result"]
    assert isinstance(single, dict), "one result is an object, as the API sends it"
    none = await call(
        http,
        "GET",
        "Calls",
        "getCallData",
        {"sdt": "2020-01-01", "edt": "2020-01-02", "output": "JSON"},
    )
    assert none.json()["response"]["results"] == {}
    assert none.json()["response"]["total_results"] == "0"
    other = await call(http, "GET", "Voxnumbers", "getVoxnumbers", {"limit": "1", "output": "JSON"})
    assert isinstance(other.json()["response"]["results"]["result"], dict)


async def test_default_window_is_the_current_month(
    shared_emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    response = await call(http, "GET", "Calls", "getCallData", {"limit": "1"})
    _, _, total = envelope(response)
    month = shared_emulator.state.now().strftime("%Y-%m")
    expected = sum(1 for row in shared_emulator.state.call_store.rows if row[1].startswith(month))
    assert 0 < total == expected < 3_000
    yesterday = await call(
        http, "GET", "Calls", "getCallData", {"dconst": "YESTERDAY", "limit": "1"}
    )
    day = "2026-10-14"
    assert envelope(yesterday)[2] == sum(
        1 for row in shared_emulator.state.call_store.rows if row[1].startswith(day)
    )


async def test_req_fields_filters_and_order(http: httpx.AsyncClient) -> None:
    params = {**WINDOW, "req_fields": "id,has_rec,lid,cts", "order": "cts_ASC", "has_rec": "1"}
    response = await call(http, "GET", "Calls", "getCallData", {**params, "limit": "50"})
    rows = results(response)
    assert [child.tag for child in rows[0]] == ["id", "call_time_sec", "link_id", "has_recording"]
    durations = [int(text(row, "call_time_sec")) for row in rows]
    assert durations == sorted(durations)
    link = text(rows[0], "link_id")
    filtered = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "link_id": link, "req_fields": "lid"}
    )
    assert {text(row, "link_id") for row in results(filtered)} == {link}
    answered = await call(
        http,
        "GET",
        "Calls",
        "getCallData",
        {**WINDOW, "call_res": "BUSY", "req_fields": "call_res"},
    )
    assert {text(row, "call_result") for row in results(answered)} == {"BUSY"}


async def test_category_fields_and_filters(http: httpx.AsyncClient) -> None:
    params = {**WINDOW, "req_fields": "id,lid,cat_id,cat_v", "cat_ids": "201", "limit": "20"}
    response = await call(http, "GET", "Calls", "getCallData", params)
    rows = results(response)
    assert rows
    for row in rows:
        categories = row.findall("./categories/category")
        assert "201" in [text(category, "category_id") for category in categories]
        assert [child.tag for child in categories[0]] == ["category_id", "value"]
    either = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "cat_ids[]": ["201", "202"], "limit": "1"}
    )
    only_website = envelope(response)[2]
    assert envelope(either)[2] > only_website
    both = await call(
        http, "GET", "Calls", "getCallData", {**WINDOW, "cat_ids": "201,200", "limit": "1"}
    )
    assert envelope(both)[2] == only_website, "a parent category matches its descendants"


async def test_call_metrics(http: httpx.AsyncClient) -> None:
    total = await call(http, "GET", "Calls", "getCallMetrics", WINDOW)
    (row,) = results(total)
    assert text(row, "total_calls") == "3000"
    assert int(text(row, "total_call_time_sec")) > 0
    grouped = await call(
        http,
        "GET",
        "Calls",
        "getCallMetrics",
        {**WINDOW, "group_fields": "cmonth", "req_fields": "tc"},
    )
    months = {text(row, "call_month"): int(text(row, "total_calls")) for row in results(grouped)}
    assert sum(months.values()) == 3_000
    assert set(months) == {"2026-07", "2026-08", "2026-09", "2026-10"}


async def test_other_lists_page_too(http: httpx.AsyncClient) -> None:
    for interface, method in [
        ("Voxnumbers", "getVoxnumbers"),
        ("Nodes", "getNodes"),
        ("Links", "getLinks"),
        ("Contacts", "getContacts"),
        ("Categories", "getCategories"),
        ("CallFlow", "getCallFlows"),
        ("Rules", "getRuleTemplates"),
        ("SoundFiles", "getSoundFiles"),
        ("Countries", "getCountries"),
        ("Purchase", "getVoxnumberRegions"),
        ("SMS", "getSmsData"),
    ]:
        response = await call(http, "GET", interface, method, {"limit": "2"})
        assert response.status_code == 200, (method, response.text)
        page, pages, total = envelope(response)
        assert page == 1 and total > 0, method
        assert len(results(response)) == min(2, total), method
        assert pages == math.ceil(total / 2), method
