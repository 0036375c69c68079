"""REST v1 (``/rest/v1/calls/insights``) through ``request_v1``: URL, headers, retries, errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from iovox_async import AsyncIovox, AuthenticationError, BadRequestError, ValidationError
from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import RunningEmulator

from .conftest import SECRET, Sleeps, errors

Factory = Callable[..., tuple[AsyncIovox, Sleeps]]


def insights(**body: Any) -> httpx.Response:
    return httpx.Response(200, json={"current_page": 1, "results": [], **body})


async def test_url_headers_and_params(make_client: Factory) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return insights(total_results=0)

    client, _ = make_client(handler)
    async with client:
        answer = await client.request_v1(
            "calls/insights", params={"start_date": "2026-07-01", "id": ["A", "B"], "page": None}
        )
    assert answer == {"current_page": 1, "results": [], "total_results": 0}
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == (
        "https://api.test:444/rest/v1/calls/insights?start_date=2026-07-01&id=A%2CB"
    )
    assert request.headers["username"] == "user"
    assert request.headers["secureKey"] == SECRET
    assert "v" not in request.url.params and "method" not in request.url.params


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        ("sandbox", "https://sandbox-rest.iovox.com/rest/v1"),
        ("production", "https://rest.iovox.com/rest/v1"),
    ],
)
async def test_environments_use_the_v1_hosts(environment: str, url: str) -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return insights()

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncIovox("user", SECRET, environment=environment, http_client=http) as client:
        assert client.rest_v1_url == url
        await client.request_v1("/calls/insights/")
    assert seen == [f"{url}/calls/insights"]


async def test_retried_like_any_read(make_client: Factory) -> None:
    answers = iter([errors(503, "Service Unavailable"), insights()])

    async def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    client, sleeps = make_client(handler)
    async with client:
        assert (await client.request_v1("calls/insights"))["results"] == []
    assert len(sleeps) == 1 and client.retries_taken == 1


async def test_errors_are_typed(make_client: Factory) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return errors(400, "Limit must be between 1 and 20000")

    client, _ = make_client(handler)
    async with client:
        with pytest.raises(BadRequestError) as caught:
            await client.request_v1("calls/insights", params={"limit": 0})
    assert [item.message for item in caught.value.errors] == ["Limit must be between 1 and 20000"]
    assert "v1.calls/insights" in str(caught.value)


@pytest.mark.parametrize(
    "path", ["", "../Calls", "https://elsewhere.test/x", "calls//insights", "calls?x=1", 7]
)
async def test_paths_that_could_leave_the_v1_base_are_refused(
    make_client: Factory, path: Any
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    client, _ = make_client(handler)
    async with client:
        with pytest.raises(ValidationError, match="path must be a v1 path"):
            await client.request_v1(path)


async def test_insights_from_the_emulator_over_loopback() -> None:
    with RunningEmulator(calls=300, seed=11) as emulator:
        rows = emulator.state.call_store.rows
        first, last = rows[0][1][:10], rows[-1][1][:10]
        async with emulator.client() as client:
            page = await client.request_v1(
                "calls/insights",
                params={
                    "start_date": first,
                    "end_date": last,
                    "limit": 50,
                    "order": "call_start_ASC",
                },
            )
            assert isinstance(page, dict)
            assert page["total_results"] == len(rows)
            assert len(page["results"]) == 50
            starts = [row["call_start"] for row in page["results"]]
            assert starts == sorted(starts) and starts[0] == rows[0][1]
            wanted = [rows[3][0], rows[7][0]]
            picked = await client.request_v1(
                "calls/insights", params={"start_date": first, "end_date": last, "id": wanted}
            )
            assert isinstance(picked, dict)
            assert sorted(str(row["id"]) for row in picked["results"]) == sorted(wanted)
            typed = await client.rest_v1.calls_insights(
                start_date=first, end_date=last, node_id=rows[0][INDEX["node_id"]], limit=5
            )
            assert 0 < len(typed["results"]) <= 5
            assert {row["node_id"] for row in typed["results"]} == {rows[0][INDEX["node_id"]]}
            with pytest.raises(BadRequestError) as caught:
                await client.request_v1("calls/insights", params={"limit": 20001})
        assert [item.message for item in caught.value.errors] == [
            "Limit must be between 1 and 20000"
        ]
        async with AsyncIovox("user", "wrong", base_url=emulator.base_url) as stranger:
            with pytest.raises(AuthenticationError) as refused:
                await stranger.request_v1("calls/insights")
        assert refused.value.status == 401
        assert json.dumps(page)  # plain JSON-able data
        assert emulator.requests("v1.calls/insights") == 5


async def test_typed_insights_checks_the_documented_parameters(make_client: Factory) -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return insights()

    client, _ = make_client(handler)
    async with client:
        await client.rest_v1.calls_insights(
            start_date=dt.date(2026, 7, 1),
            end_date=dt.datetime(2026, 7, 31, 18),
            id=[1, 2],
            limit=500,
        )
        for bad, message in [
            ({"limit": 20001}, "limit must be at most 20000"),
            ({"date_constant": "TODAY"}, "date_constant must be one of YESTERDAY"),
            ({"start_date": "2026-02-30"}, "start_date must be a real date"),
            (
                {"start_date": "2026-08-01", "end_date": "2026-07-01"},
                "start_date .* is after end_date",
            ),
        ]:
            with pytest.raises(ValidationError, match=message):
                await client.rest_v1.calls_insights(**bad)
    (request,) = seen
    assert str(request.url) == (
        "https://api.test:444/rest/v1/calls/insights?limit=500&start_date=2026-07-01"
        "&end_date=2026-07-31%2018%3A00%3A00&id=1%2C2"
    )
