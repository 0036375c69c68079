"""The API's general protocol over loopback HTTP: exact error strings, formats, statuses."""

from __future__ import annotations

import re

import httpx
import pytest

from iovox_async.testing import RunningEmulator

from .helpers import call, errors, messages

NODE = "<node><node_id>{id}</node_id><node_name>Shop</node_name><node_type>Shop</node_type></node>"


def nodes_body(*ids: str) -> str:
    return "<request>" + "".join(NODE.format(id=node_id) for node_id in ids) + "</request>"


async def test_error_body_is_exactly_the_apis(http: httpx.AsyncClient) -> None:
    response = await call(http, "GET", "Calls", "getCallData", version=None)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/xml"
    assert response.content == (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<errors><error status="400">API Version Empty</error></errors>'
    )


async def test_missing_and_blank_credentials(shared_emulator: RunningEmulator) -> None:
    async with httpx.AsyncClient(base_url=shared_emulator.base_url) as client:
        response = await call(client, "GET", "Calls", "getCallData")
        assert response.status_code == 400
        assert messages(response) == ["Username Empty", "Secure Key Empty"]
        blank = {"username": "", "secureKey": shared_emulator.secure_key}
        response = await client.get(
            "/Calls", params={"v": 3, "method": "getCallData"}, headers=blank
        )
        assert errors(response) == [(400, "Username Empty")]
        no_key = {"username": shared_emulator.username, "secureKey": ""}
        response = await client.get(
            "/Calls", params={"v": 3, "method": "getCallData"}, headers=no_key
        )
        assert errors(response) == [(400, "Secure Key Empty")]


async def test_wrong_credentials_are_401(shared_emulator: RunningEmulator) -> None:
    headers = {"username": shared_emulator.username, "secureKey": "wrong"}
    async with httpx.AsyncClient(base_url=shared_emulator.base_url, headers=headers) as client:
        response = await call(client, "GET", "Calls", "getCallData")
    assert response.status_code == 401
    assert errors(response) == [(401, "HTTP 401: Unauthorized")]


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/", {"v": "3", "method": "getCallData"}, "Interface Name Empty"),
        (
            "/exampleInterface",
            {"v": "3", "method": "x"},
            "Interface does not exist: exampleInterface",
        ),
        ("/Calls", {"v": "3"}, "Method Empty"),
        ("/Calls", {"v": "3", "method": ""}, "Method Empty"),
        (
            "/Calls",
            {"v": "3", "method": "doesntExist"},
            "Method Invalid: doesntExist in interface Calls",
        ),
        ("/Calls", {"method": "getCallData"}, "API Version Empty"),
        ("/Calls", {"v": "", "method": "getCallData"}, "API Version Empty"),
        ("/Calls", {"v": "2", "method": "getCallData"}, "API Version Invalid"),
    ],
)
async def test_general_errors(
    http: httpx.AsyncClient, path: str, params: dict[str, str], expected: str
) -> None:
    response = await http.get(path, params=params)
    assert response.status_code == 400
    assert errors(response) == [(400, expected)]


@pytest.mark.parametrize(
    ("verb", "interface", "method", "expected"),
    [
        ("POST", "Calls", "getCallData", "Request Method must be GET. POST attempted"),
        ("GET", "Nodes", "createNodes", "Request Method must be POST. GET attempted"),
        ("DELETE", "Nodes", "updateNodes", "Request Method must be PUT. DELETE attempted"),
        ("PUT", "Nodes", "deleteNodes", "Request Method must be DELETE. PUT attempted"),
    ],
)
async def test_wrong_verb(
    http: httpx.AsyncClient, verb: str, interface: str, method: str, expected: str
) -> None:
    response = await call(http, verb, interface, method, {"node_ids": "N0001"})
    assert response.status_code == 400
    assert expected in messages(response)


async def test_several_errors_in_one_body(http: httpx.AsyncClient) -> None:
    response = await call(http, "POST", "Nodes", "createNodes", body=b"", version=None)
    assert errors(response) == [(400, "API Version Empty"), (400, "XML Empty")]


async def test_body_errors(fresh_http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body="   ")
    assert messages(response) == ["XML Empty"]
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body="<request><node>")
    (message,) = messages(response)
    assert re.fullmatch(r"XML parse error\. .+ at line \d+, column \d+", message), message
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body="<request></request>")
    assert messages(response) == ["Request Empty"]
    before = len(emulator.state.nodes)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<request><node><node_id>&lol2;</node_id></node></request>"
    )
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=bomb)
    assert response.status_code == 400
    (message,) = messages(response)
    assert message.startswith("XML parse error.") and "line 1" in message
    assert len(emulator.state.nodes) == before


async def test_item_errors_are_numbered(fresh_http: httpx.AsyncClient) -> None:
    body = nodes_body("A1", "", "A3")
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=body)
    assert errors(response) == [(400, "Node ID 2 of 3 Empty")]
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=nodes_body("A1"))
    assert response.status_code == 201
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=nodes_body("B1", "A1"))
    assert messages(response) == ["Node ID 2 of 2 already exists"]
    response = await call(fresh_http, "DELETE", "Clis", "deleteClis", {"clis": "447700900001,abc"})
    assert messages(response) == ["Cli 2 of 2 not an integer"]


@pytest.mark.parametrize(
    ("interface", "method", "params", "expected"),
    [
        ("Calls", "getCallData", {"page": "x"}, ["Page Number not an integer"]),
        ("Calls", "getCallData", {"limit": "ten"}, ["Limit not an integer"]),
        ("Calls", "getCallData", {"limit": "0"}, ["Limit must be between 1 and 20000"]),
        ("Calls", "getCallData", {"limit": "20001"}, ["Limit must be between 1 and 20000"]),
        ("Nodes", "getNodes", {"limit": "5001"}, ["Limit must be between 1 and 5000"]),
        ("Calls", "getCallData", {"output": "CSV"}, ["Output Type Invalid"]),
        (
            "Calls",
            "getCallData",
            {"req_fields": "id,foo,cs,bar"},
            ["Required Fields Invalid: foo,bar"],
        ),
        ("Calls", "getCallData", {"order": "nope_DESC"}, ["Order Field Invalid"]),
        ("Links", "getLinks", {"order": "nn_UP"}, ["Order Direction Invalid"]),
        ("Nodes", "getNodeDetails", {}, ["Node ID Empty"]),
        ("Nodes", "getNodeDetails", {"node_id": "nope"}, ["Node ID Doesn't exist"]),
        ("CallFlow", "getCallFlows", {"template_type": "OTHER"}, ["Template Type Invalid"]),
    ],
)
async def test_query_validation(
    http: httpx.AsyncClient,
    interface: str,
    method: str,
    params: dict[str, str],
    expected: list[str],
) -> None:
    response = await call(http, "GET", interface, method, params)
    assert response.status_code == 400
    assert messages(response) == expected


async def test_required_query_parameter_of_a_delete(http: httpx.AsyncClient) -> None:
    response = await call(http, "DELETE", "Nodes", "deleteNodes")
    assert messages(response) == ["Node IDs Empty"]
    response = await call(http, "DELETE", "CallFlow", "deleteCallFlows")
    assert messages(response) == ["call_flows Empty"]


async def test_success_codes_per_verb(fresh_http: httpx.AsyncClient) -> None:
    response = await call(fresh_http, "GET", "Nodes", "getNodes", {"limit": "1"})
    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<response>')
    assert response.headers["content-type"] == "text/xml"
    response = await call(fresh_http, "POST", "Nodes", "createNodes", body=nodes_body("C1"))
    assert (response.status_code, response.content) == (201, b"")
    update = "<request><node><node_id>C1</node_id><node_name>Renamed</node_name></node></request>"
    response = await call(fresh_http, "PUT", "Nodes", "updateNodes", body=update)
    assert (response.status_code, response.content) == (204, b"")
    response = await call(fresh_http, "DELETE", "Nodes", "deleteNodes", {"node_ids": "C1"})
    assert (response.status_code, response.content) == (204, b"")
    response = await call(fresh_http, "DELETE", "Nodes", "deleteNodes", {"node_ids": "C1"})
    assert messages(response) == ["Node ID 1 of 1 does not exist"]


async def test_every_response_sets_a_session_cookie(http: httpx.AsyncClient) -> None:
    response = await call(http, "GET", "Countries", "getCountries")
    assert response.headers["set-cookie"].startswith("PHPSESSID=")


async def test_admin_needs_no_credentials_and_cannot_collide(
    shared_emulator: RunningEmulator,
) -> None:
    async with httpx.AsyncClient(base_url=shared_emulator.base_url) as client:
        health = await client.get("/_emulator/health")
        assert health.json() == {"status": "ok"}
        config = (await client.get("/_emulator/config")).json()
        assert config["username"] == shared_emulator.username
        assert config["seed"] == 7
        missing = await client.get("/_emulator/nothing")
        assert missing.status_code == 404
        wrong = await client.post("/_emulator/stats")
        assert wrong.status_code == 405
        bad = await client.put("/_emulator/faults", content=b"{not json")
        assert bad.status_code == 400
        # An interface path is never an admin path, even with a similar name.
        response = await client.get(
            "/emulator", params={"v": 3, "method": "x"}, headers=shared_emulator.headers
        )
        assert messages(response) == ["Interface does not exist: emulator"]
