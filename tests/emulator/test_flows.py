"""The flows users run, end to end over loopback HTTP with plain httpx."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import httpx
import pytest

from iovox_async.emulator.audio import MAX_RECORDING, MIN_RECORDING
from iovox_async.testing import RunningEmulator

from .helpers import call, messages, results, text

BUY_OXFORD = """<?xml version="1.0" encoding="utf-8"?>
<request>
  <dynamic_quantity>{dynamic}</dynamic_quantity>
  <items><item>
    <country_code>44</country_code><area_code>1865</area_code>
    <number_type>GEOGRAPHIC</number_type><quantity>{quantity}</quantity>
  </item></items>
</request>"""


def root(response: httpx.Response) -> ET.Element:
    return ET.fromstring(response.content)


async def test_purchase_then_order_details_then_voxnumbers(fresh_http: httpx.AsyncClient) -> None:
    regions = await call(
        fresh_http,
        "GET",
        "Purchase",
        "getVoxnumberRegions",
        {"country_code": "44", "area_code": "1865"},
    )
    (region,) = results(regions)
    assert text(region, "city_name") == "OXFORD"
    bought = await call(
        fresh_http,
        "POST",
        "Purchase",
        "purchaseVoxNumbers",
        body=BUY_OXFORD.format(dynamic="TRUE", quantity=5),
    )
    assert bought.status_code == 201
    order = root(bought)
    reference = text(order, "order_reference")
    numbers = [text(item, "full_voxnumber") for item in order.findall("./voxnumbers/voxnumber")]
    assert len(numbers) == 3, "dynamic_quantity buys what is in stock (3) instead of 5"
    assert text(order, "order_status") == "COMPLETED"
    details = await call(
        fresh_http, "GET", "Purchase", "getOrderDetails", {"order_reference": reference}
    )
    (detail,) = results(details)
    assert text(detail, "order_reference") == reference
    assert [
        text(item, "full_voxnumber") for item in detail.findall("./voxnumbers/voxnumber")
    ] == numbers
    assert text(detail, "items/item/quantity_fulfilled") == "3"
    for number in numbers:
        listed = await call(
            fresh_http,
            "GET",
            "Voxnumbers",
            "getVoxnumbers",
            {"voxnumber": number, "req_fields": "vn,as,vnci"},
        )
        (row,) = results(listed)
        assert (text(row, "assigned_status"), text(row, "voxnumber_city")) == (
            "UNASSIGNED",
            "OXFORD",
        )
    sold_out = await call(
        fresh_http,
        "POST",
        "Purchase",
        "purchaseVoxNumbers",
        body=BUY_OXFORD.format(dynamic="FALSE", quantity=2),
    )
    assert text(root(sold_out), "order_status") == "PENDING"
    unknown = await call(
        fresh_http, "GET", "Purchase", "getOrderDetails", {"order_reference": "ORD9999999"}
    )
    assert messages(unknown) == ["Order Reference does not exist"]


async def test_purchase_basket_errors(
    fresh_http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    body = (
        "<request><items>"
        "<item><country_code>44</country_code><area_code>20</area_code><number_type>GEOGRAPHIC</number_type><quantity>1</quantity></item>"
        "<item><country_code>99</country_code><area_code>1</area_code><number_type>GEOGRAPHIC</number_type><quantity>1</quantity></item>"
        "</items></request>"
    )
    before = len(emulator.state.voxnumbers)
    response = await call(fresh_http, "POST", "Purchase", "purchaseVoxNumbers", body=body)
    assert messages(response) == ["Basket Item 2 of 2 is not correct."]
    assert len(emulator.state.voxnumbers) == before, "a failed basket buys nothing"
    assert emulator.effects("Purchase.purchaseVoxNumbers") == 0


CREATE_NODE_FULL = """<request><node>
  <node_id>SHOP-1</node_id><node_name>Tyler's Hairdressers</node_name><node_type>Shop</node_type>
  <links>
    <link>
      <link_id>SHOP-1-WEB</link_id><link_name>Website</link_name><link_type>Website</link_type>
      <click_to_call>1</click_to_call>
      <rule_template_name>Call Forward</rule_template_name>
      <rules_variable><rule><rule_id>call</rule_id><rule_type>call</rule_type><rule_label>Forward</rule_label>
        <contact><contact_id>C0001</contact_id><phone_number>442071234567</phone_number></contact></rule></rules_variable>
      <assign_voxnumber><method>BY AREA</method><voxnumber_idd>{idd}</voxnumber_idd><area_code>{area}</area_code></assign_voxnumber>
      <categories><category><category_id>201</category_id></category></categories>
    </link>
    <link><link_id>SHOP-1-PAPER</link_id><link_name>Newspaper</link_name><link_type>Newspaper</link_type></link>
  </links>
</node></request>"""


async def _free_number(client: httpx.AsyncClient) -> tuple[str, str, str]:
    response = await call(
        client,
        "GET",
        "Voxnumbers",
        "getVoxnumbers",
        {"assigned_status": "UNASSIGNED", "req_fields": "vn,cc", "limit": "1"},
    )
    (row,) = results(response)
    number, country = text(row, "voxnumber"), text(row, "country_code")
    return number, country, number[len(country) :]


async def test_create_node_full_then_node_details(
    fresh_http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    number, _, _ = await _free_number(fresh_http)
    vox = emulator.state.voxnumbers[number]
    body = CREATE_NODE_FULL.format(idd=vox.country_code, area=vox.area_code)
    created = await call(fresh_http, "POST", "Nodes", "createNodeFull", body=body)
    assert created.status_code == 201, created.text
    tree = root(created)
    assert text(tree, "node_id") == "SHOP-1"
    assert [text(link, "link_id") for link in tree.findall("./links/link")] == [
        "SHOP-1-WEB",
        "SHOP-1-PAPER",
    ]
    details = await call(fresh_http, "GET", "Nodes", "getNodeDetails", {"node_id": "SHOP-1"})
    (node,) = results(details)
    assert text(node, "node_name") == "Tyler's Hairdressers"
    links = node.findall("./links/link")
    assert text(links[0], "voxnumber").startswith(vox.country_code + vox.area_code)
    assert text(links[0], "rule_template_name") == "Call Forward"
    assert text(links[0], "rules/rule/contact/phone_number") == "442071234567"
    assert text(links[0], "cats/cat/value") == "Website"
    again = await call(fresh_http, "POST", "Nodes", "createNodeFull", body=body)
    assert messages(again) == ["Node ID 1 of 1 already exists"]


async def test_create_node_full_is_atomic_without_a_number(
    fresh_http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    body = CREATE_NODE_FULL.format(idd="44", area="999")
    response = await call(fresh_http, "POST", "Nodes", "createNodeFull", body=body)
    assert response.status_code == 400
    assert messages(response) == [
        "There is no VoxNumber available in your account for the Area Code 999"
    ]
    assert "SHOP-1" not in emulator.state.nodes and "SHOP-1-WEB" not in emulator.state.links


async def test_attach_voxnumber_then_set_call_status(fresh_http: httpx.AsyncClient) -> None:
    number, _, _ = await _free_number(fresh_http)
    off = f"<request><call_status>OFF</call_status><voxnumbers><voxnumber>{number}</voxnumber></voxnumbers></request>"
    refused = await call(fresh_http, "PUT", "Voxnumbers", "setCallStatus", body=off)
    assert messages(refused) == ["VoxNumber 1 of 1 is not attached to a Link"]
    link_id = "L00001"
    attach = (
        f"<request><link><link_id>{link_id}</link_id><method>BY VOXNUMBER</method>"
        f"<full_voxnumber>{number}</full_voxnumber></link></request>"
    )
    attached = await call(fresh_http, "PUT", "Links", "attachVoxnumberToLink", body=attach)
    assert attached.status_code == 204, attached.text
    listed = await call(
        fresh_http,
        "GET",
        "Voxnumbers",
        "getVoxnumbers",
        {"voxnumber": number, "req_fields": "vn,lid,as,cs"},
    )
    (row,) = results(listed)
    assert (text(row, "link_id"), text(row, "assigned_status"), text(row, "call_status")) == (
        link_id,
        "ASSIGNED",
        "ACTIVE",
    )
    assert (
        await call(fresh_http, "PUT", "Voxnumbers", "setCallStatus", body=off)
    ).status_code == 204
    listed = await call(
        fresh_http, "GET", "Voxnumbers", "getVoxnumbers", {"voxnumber": number, "req_fields": "cs"}
    )
    assert text(results(listed)[0], "call_status") == "OFF"
    bad = off.replace("OFF", "MAYBE")
    assert messages(await call(fresh_http, "PUT", "Voxnumbers", "setCallStatus", body=bad)) == [
        "Call Status Invalid"
    ]
    two = f"<request><call_status>ON</call_status><voxnumbers><voxnumber>{number}</voxnumber><voxnumber>1</voxnumber></voxnumbers></request>"
    assert messages(await call(fresh_http, "PUT", "Voxnumbers", "setCallStatus", body=two)) == [
        "VoxNumber 2 of 2 does not exist"
    ]
    in_use = await call(
        fresh_http,
        "DELETE",
        "Voxnumbers",
        "deleteVoxnumbersFromAccount",
        {"full_voxnumbers": number},
    )
    assert messages(in_use) == ["VoxNumber 1 of 1 is attached to a Link"]
    removed = await call(
        fresh_http,
        "PUT",
        "Links",
        "removeVoxnumberFromLink",
        body=f"<request><link_id>{link_id}</link_id></request>",
    )
    assert removed.status_code == 204
    deleted = await call(
        fresh_http,
        "DELETE",
        "Voxnumbers",
        "deleteVoxnumbersFromAccount",
        {"full_voxnumbers": number},
    )
    assert deleted.status_code == 204
    gone = await call(fresh_http, "GET", "Voxnumbers", "getVoxnumbers", {"voxnumber": number})
    assert results(gone) == []


async def test_transfer_voxnumbers(
    fresh_http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    number, _, _ = await _free_number(fresh_http)
    body = (
        "<request><origin_partner_name>emulator-partner</origin_partner_name>"
        "<destination_partner_name>{destination}</destination_partner_name>"
        f"<voxnumbers><voxnumber>{number}</voxnumber></voxnumbers></request>"
    )
    unknown = await call(
        fresh_http,
        "PUT",
        "Voxnumbers",
        "transferVoxnumbers",
        body=body.format(destination="nobody"),
    )
    assert messages(unknown) == ["Destination Partner Name does not exist"]
    done = await call(
        fresh_http,
        "PUT",
        "Voxnumbers",
        "transferVoxnumbers",
        body=body.format(destination="emulator-partner-2"),
    )
    assert done.status_code == 204
    assert number not in emulator.state.voxnumbers


async def test_initiate_call_appears_in_call_data(fresh_http: httpx.AsyncClient) -> None:
    body = (
        "<request><link_id>L00002</link_id><call_variables>"
        "<call_destination>449789123123,,1,,2</call_destination></call_variables></request>"
    )
    response = await call(fresh_http, "POST", "Calling", "initiateCall", body=body)
    assert (response.status_code, response.content) == (201, b"")
    data = await call(fresh_http, "GET", "Calls", "getCallData", {"ctype": "API"})
    (row,) = results(data)
    assert text(row, "call_type") == "API"
    assert text(row, "link_id") == "L00002"
    assert text(row, "call_destination") == "449789123123"
    missing = await call(
        fresh_http,
        "POST",
        "Calling",
        "initiateCall",
        body="<request><link_id>nope</link_id></request>",
    )
    assert messages(missing) == ["Link ID does not exist"]


async def test_send_sms_then_sms_data(fresh_http: httpx.AsyncClient) -> None:
    body = "<request><origin>IOVOX</origin><destination>447700900123</destination><message>Hello &amp; welcome</message></request>"
    sent = await call(fresh_http, "POST", "SMS", "sendSms", body=body)
    assert sent.status_code == 201
    activity = text(root(sent), "sms_activity_id")
    assert activity
    data = await call(fresh_http, "GET", "SMS", "getSmsData", {"sms_activity_id": activity})
    (row,) = results(data)
    assert (text(row, "destination"), text(row, "message")) == ("447700900123", "Hello & welcome")
    empty = await call(
        fresh_http, "POST", "SMS", "sendSms", body="<request><origin>IOVOX</origin></request>"
    )
    assert messages(empty) == ["Destination Empty", "Message Empty"]
    for origin, accepted in [
        ("Shop 1.2", True),
        ("447923221231", True),
        ("TwelveLetter", False),  # 12 characters
        ("Shop&Co", False),  # special characters
        ("00447923221231", False),  # E.164 without 00
        ("4479232212311234", False),  # 16 digits
    ]:
        body = (
            f"<request><origin>{escape(origin)}</origin><destination>447700900123"
            "</destination><message>x</message></request>"
        )
        answer = await call(fresh_http, "POST", "SMS", "sendSms", body=body)
        assert (answer.status_code == 201) is accepted, origin
        if not accepted:
            assert messages(answer) == ["Origin Invalid"]


async def test_sound_file_upload_get_delete(fresh_http: httpx.AsyncClient) -> None:
    audio = b"ID3\x04\x00" + bytes(range(256)) * 20
    encoded = base64.b64encode(audio).decode()
    body = (
        "<request><sound_file><sound_label>greeting</sound_label><sound_group>shop</sound_group>"
        f"<sound_file>{encoded}</sound_file><notes>hello</notes></sound_file></request>"
    )
    created = await call(fresh_http, "POST", "SoundFiles", "createSoundFiles", body=body)
    assert created.status_code == 201, created.text
    duplicate = await call(fresh_http, "POST", "SoundFiles", "createSoundFiles", body=body)
    assert messages(duplicate) == ["Sound Label 1 of 1 already exists in Sound Group"]
    listed = await call(fresh_http, "GET", "SoundFiles", "getSoundFiles", {"sound_group": "shop"})
    (row,) = results(listed)
    assert text(row, "content_length") == str(len(audio))
    data = await call(
        fresh_http,
        "GET",
        "SoundFiles",
        "getSoundFileData",
        {"sound_label": "greeting", "sound_group": "shop"},
    )
    assert data.headers["content-type"] == "audio/mpeg"
    assert data.content == audio
    deleted = await call(
        fresh_http, "DELETE", "SoundFiles", "deleteSoundFiles", {"sound_files": "greeting;shop"}
    )
    assert deleted.status_code == 204
    again = await call(
        fresh_http, "DELETE", "SoundFiles", "deleteSoundFiles", {"sound_files": "greeting;shop"}
    )
    assert messages(again) == ["Sound File 1 of 1 Does not exist"]


async def _recorded_ids(client: httpx.AsyncClient, count: int) -> list[str]:
    params = {"sdt": "2026-07-01", "edt": "2026-10-31", "req_fields": "id,has_rec", "limit": "200"}
    response = await call(client, "GET", "Calls", "getCallData", params)
    rows = results(response)
    return [text(row, "id") for row in rows if text(row, "has_recording") == "1"][:count]


async def test_recordings_are_deterministic_mp3_bytes(
    shared_emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    ids = await _recorded_ids(http, 3)
    assert len(ids) == 3
    first = await call(http, "GET", "Calls", "getCallRecording", {"id": ids[0]})
    assert first.status_code == 200
    assert first.headers["content-type"] == "audio/mpeg"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.content[:3] == b"ID3"
    assert MIN_RECORDING <= len(first.content) <= MAX_RECORDING
    again = await call(http, "GET", "Calls", "getCallRecording", {"id": ids[0]})
    assert again.content == first.content
    other = await call(http, "GET", "Calls", "getCallRecording", {"id": ids[1]})
    assert other.content != first.content
    with RunningEmulator(calls=3_000, seed=7) as twin:
        async with twin.http_client() as client:
            same = await call(client, "GET", "Calls", "getCallRecording", {"id": ids[0]})
    assert same.content == first.content, "same seed and call id give the same bytes"


async def test_recording_errors(http: httpx.AsyncClient, shared_emulator: RunningEmulator) -> None:
    unrecorded = next(row[0] for row in shared_emulator.state.call_store.rows if row[22] == "0")
    response = await call(http, "GET", "Calls", "getCallRecording", {"id": unrecorded})
    assert messages(response) == ["The specified call does not have a recording"]
    response = await call(http, "GET", "Calls", "getCallRecording", {"id": "1"})
    assert messages(response) == ["The specified Call ID does not exist"]
    response = await call(http, "GET", "Calls", "getCallRecording")
    assert messages(response) == ["ID Empty"]


async def test_call_flow_lifecycle(fresh_http: httpx.AsyncClient) -> None:
    flow = (
        '<request><callFlow name="Night Line" notes="after hours">'
        '<play id="p1" label="Closed"><soundFile soundLabel="closed" soundGroup="out_of_hours"/></play>'
        '<call id="c1" label="On call" destinationPhoneNumber="?"/></callFlow></request>'
    )
    created = await call(fresh_http, "POST", "CallFlow", "createCallFlow", body=flow)
    assert created.status_code == 201, created.text
    exists = await call(fresh_http, "POST", "CallFlow", "createCallFlow", body=flow)
    assert messages(exists) == ["CallFlow Name already exists"]
    fetched = await call(fresh_http, "GET", "CallFlow", "getCallFlow", {"call_flow": "Night Line"})
    definition = root(fetched).find("callFlow")
    assert definition is not None and definition.get("name") == "Night Line"
    variables = await call(
        fresh_http, "GET", "Rules", "getVariableRulesOfTemplate", {"template_name": "Night Line"}
    )
    assert [text(rule, "rule_id") for rule in root(variables).findall("./rules/rule")] == ["c1"]
    listed = await call(
        fresh_http,
        "GET",
        "CallFlow",
        "getCallFlows",
        {"template_type": "CUSTOM", "req_fields": "tna"},
    )
    assert "Night Line" in [text(row, "template_name") for row in results(listed)]
    attached = await call(
        fresh_http, "DELETE", "CallFlow", "deleteCallFlows", {"call_flows": "Call Sales|Night Line"}
    )
    assert messages(attached) == ["Call Flow 1 of 2 is attached to a Link"]
    deleted = await call(
        fresh_http, "DELETE", "CallFlow", "deleteCallFlows", {"call_flows": "Night Line"}
    )
    assert deleted.status_code == 204
    no_rules = '<request><callFlow name="Empty"></callFlow></request>'
    assert messages(
        await call(fresh_http, "POST", "CallFlow", "createCallFlow", body=no_rules)
    ) == ["There are no Rules in this Template"]


async def test_contacts_and_categories(fresh_http: httpx.AsyncClient) -> None:
    contact = "<request><contact><contact_id>NEW1</contact_id><display_name>Ann Lee</display_name><business_phone>442070000000</business_phone></contact></request>"
    assert (
        await call(fresh_http, "POST", "Contacts", "createContacts", body=contact)
    ).status_code == 201
    details = await call(fresh_http, "GET", "Contacts", "getContactDetails", {"contact_id": "NEW1"})
    assert text(results(details)[0], "display_name") == "Ann Lee"
    assert (
        await call(fresh_http, "DELETE", "Contacts", "deleteContacts", {"contact_ids": "NEW1"})
    ).status_code == 204
    category = "<request><category><parent_category_id>200</parent_category_id><category_id>299</category_id><label>Channel</label><value>Podcast</value></category></request>"
    assert (
        await call(fresh_http, "POST", "Categories", "createCategories", body=category)
    ).status_code == 201
    found = await call(
        fresh_http, "GET", "Categories", "getCategoryId", {"label": "Channel", "value": "Podcast"}
    )
    (row,) = results(found)
    assert (text(row, "category_id"), text(row, "category_path")) == ("299", "Channel;Podcast")


def _minimal_value(kind: str, values: tuple[str, ...]) -> str:
    if values:
        return values[0]
    return {
        "integer": "1",
        "boolean": "TRUE",
        "datetime": "2026-10-01 00:00:00",
        "date": "2026-10-01",
    }.get(kind, "x")


def _minimal_payload(specs: tuple[object, ...]) -> str:
    from iovox_async._spec import ElementSpec

    out = []
    for spec in specs:
        assert isinstance(spec, ElementSpec)
        if not spec.required or spec.name.startswith("@"):
            continue
        if spec.children:
            inner = _minimal_payload(spec.children)
            if not inner:
                child = spec.children[0]
                inner = f"<{child.name}>{_minimal_value(child.type, child.values)}</{child.name}>"
            out.append(f"<{spec.name}>{inner}</{spec.name}>")
        else:
            out.append(f"<{spec.name}>{_minimal_value(spec.type, spec.values)}</{spec.name}>")
    return "".join(out)


def _generic_methods() -> list[tuple[str, str]]:
    from iovox_async._catalog import METHODS
    from iovox_async.emulator.handlers import HANDLERS

    return [
        (interface, name)
        for interface, methods in METHODS.items()
        for name in methods
        if f"{interface}.{name}" not in HANDLERS
    ]


@pytest.mark.parametrize(("interface", "name"), _generic_methods())
async def test_every_other_method_answers_a_spec_shaped_success(
    fresh_http: httpx.AsyncClient, interface: str, name: str
) -> None:
    from iovox_async._catalog import METHODS

    method = METHODS[interface][name]
    params = {
        param.name: _minimal_value(param.type, param.values)
        for param in method.query
        if param.required
    }
    body = None
    if method.http in ("POST", "PUT"):
        body = (
            f"<request>{_minimal_payload(method.payload or ())}</request>"
            if method.payload
            else None
        )
    response = await call(fresh_http, method.http, interface, name, params, body)
    expected = {"GET": 200, "POST": 201, "PUT": 204, "DELETE": 204}[method.http]
    assert response.status_code == expected, response.text
    if method.response_kind == "xml":
        assert root(response).tag == "response"
    elif method.response_kind == "empty":
        assert response.content == b""


def test_every_handler_belongs_to_a_catalog_method() -> None:
    from iovox_async._catalog import METHODS
    from iovox_async.emulator.handlers import HANDLERS

    unknown = [
        key for key in HANDLERS if key.split(".", 1)[1] not in METHODS.get(key.split(".", 1)[0], {})
    ]
    assert unknown == []
