"""Requests that repeat exactly reuse their built call; checks still hold for each one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from iovox_async import AsyncIovox, ClientClosedError, ValidationError
from iovox_async._catalog import METHODS
from iovox_async._client import _KEPT_CALLS
from iovox_async._params import build_query

from .conftest import Sleeps, xml

PAGE = "<response><total_results>1</total_results><results><result><id>7</id></result></results></response>"


async def _answer(request: httpx.Request) -> httpx.Response:
    return xml(PAGE)


async def test_a_repeated_raw_call_is_built_once_and_sent_each_time(
    make_client: Callable[..., tuple[AsyncIovox, Sleeps]],
) -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return xml(PAGE)

    client, _ = make_client(handler)
    first = client._raw_call("Calls", "getCallData", None, None, "GET", None, None, None)
    again = client._raw_call("Calls", "getCallData", None, None, "GET", None, None, None)
    assert again is first
    other = client._raw_call("Calls", "getCallData", None, None, "GET", None, 5.0, None)
    assert other is not first and other.timeout == 5.0
    for _ in range(3):
        assert await client.request("Calls", "getCallData") == {
            "total_results": "1",
            "results": {"result": [{"id": "7"}]},
        }
    assert len(seen) == 3 and len(set(seen)) == 1
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.request("Calls", "getCallData")  # the kept call is not a way past close


async def test_a_kept_call_never_skips_the_argument_checks(
    make_client: Callable[..., tuple[AsyncIovox, Sleeps]],
) -> None:
    client, _ = make_client(_answer)
    for _ in range(2):  # the second time a call with these arguments would be kept
        with pytest.raises(ValidationError, match="max_retries"):
            await client.request("Calls", "getCallData", max_retries=-1)
        with pytest.raises(ValidationError, match="API name"):
            await client.request("Calls", "get Call Data")
        with pytest.raises(ValidationError, match="at least 1"):
            await client.calls.get_call_data(limit=0)
    page = await client.calls.get_call_data(limit=5)
    assert page["total_results"] == 1
    await client.aclose()


def test_generated_calls_with_the_same_query_share_one_call() -> None:
    client = AsyncIovox("user", "key", base_url="http://127.0.0.1:1")
    method = METHODS["Calls"]["getCallData"]
    query: dict[str, Any] = {param.name: None for param in method.query}
    one = client._spec_call(method, {**query, "page": 2, "limit": 10}, None, None)
    same = client._spec_call(method, {**query, "limit": 10, "page": 2}, None, None)
    other = client._spec_call(method, {**query, "page": 3, "limit": 10}, None, None)
    assert same is one
    assert other is not one
    assert other.params == (("page", "3"), ("limit", "10"))


def test_kept_calls_are_bounded() -> None:
    client = AsyncIovox("user", "key", base_url="http://127.0.0.1:1")
    method = METHODS["Calls"]["getCallData"]
    for page in range(1, 3 * _KEPT_CALLS):
        client._spec_call(method, {"page": page}, None, None)
        assert len(client._calls) <= _KEPT_CALLS


def test_query_pairs_follow_the_spec_order_and_the_first_problem_is_reported() -> None:
    method = METHODS["Calls"]["getCallData"]
    assert build_query(method, {"limit": 5, "order": "cs_ASC", "page": 2}) == [
        ("page", "2"),
        ("limit", "5"),
        ("order", "cs_ASC"),
    ]
    with pytest.raises(ValidationError, match=r"unknown parameters \['nope'\]"):
        build_query(method, {"page": 1, "nope": None})  # unknown even when empty
    with pytest.raises(ValidationError, match="page must be at least 1"):
        build_query(method, {"limit": 0, "page": 0})  # page comes first in the spec
    required = next(
        (m, p) for ms in METHODS.values() for m in ms.values() for p in m.query if p.required
    )
    needy, param = required
    with pytest.raises(ValidationError, match=f"{param.name} is required"):
        build_query(needy, {})
