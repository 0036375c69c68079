"""Every write of the catalog, read back through the API (client, emulator over loopback).

Issue 12 asks for "a stateful read-back test for every create, update and delete".
``CASES`` maps each write method (every POST, PUT and DELETE of the runtime catalog,
plus the GETs in ``GET_WITH_EFFECTS``) to one case that performs the write through
``AsyncIovox.request`` and then reads its effect back through the API's own read
methods: created records show the fields sent, updates show the changed fields, deletes
leave nothing behind and a second delete answers the documented "does not exist" error.
Where no API method shows an effect, the case reads the emulator's admin state
(``/_emulator/state``) and says so. ``test_every_write_has_a_case`` fails when a write
method of the catalog has no case, and each case must have applied its write at least
once and read something back (the emulator's counters tell).

Writes go through ``iovox.request(...)`` with explicit params and payload so the cases do
not depend on the generated keyword names; values are compared through :func:`norm`, so
typed answers (ints, datetimes, booleans) and text answers both pass.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from iovox_async import AsyncIovox, BadRequestError
from iovox_async._spec import Method
from iovox_async.emulator.seed import CLIS, SUB_ACCOUNT
from iovox_async.testing import RunningEmulator


def catalog() -> dict[str, dict[str, Method]]:
    """The runtime catalog, ``{interface: {method: Method}}`` (its one import in this file)."""
    from iovox_async._catalog import METHODS

    return METHODS


def method_of(key: str) -> Method:
    interface, name = key.split(".")
    return catalog()[interface][name]


GET_WITH_EFFECTS = {
    "User.userPortalLogin": "each call hands out a new single-use login token",
}
"""GET methods that change state (the catalog marks every GET idempotent)."""

EXCLUDED: dict[str, str] = {}
"""Write methods without a read-back case, and why (none)."""


def write_methods() -> set[str]:
    """``Interface.method`` of every write: POST, PUT, DELETE, and GETs with effects."""
    keys = {
        f"{interface}.{name}"
        for interface, methods in catalog().items()
        for name, method in methods.items()
        if method.http != "GET"
    }
    return keys | set(GET_WITH_EFFECTS)


# -- comparing typed and text answers alike ---------------------------------------------


def norm(value: Any) -> Any:
    """The API text of a decoded value: ints, datetimes and booleans as the wire shows them."""
    if isinstance(value, dict):
        return {key: norm(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [norm(item) for item in value]
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value == "":
        return None  # an empty element: "" as text, None once decoded as typed
    if value is None or isinstance(value, (str, bytes)):
        return value
    return str(value)


def test_norm_makes_typed_and_text_answers_equal() -> None:
    typed = {"id": 7, "at": dt.datetime(2026, 1, 2, 3, 4, 5), "on": True, "rows": [1.5, None]}
    assert norm(typed) == {
        "id": "7",
        "at": "2026-01-02 03:04:05",
        "on": "TRUE",
        "rows": ["1.5", None],
    }
    assert norm({"id": "7", "name": ""}) == {"id": "7", "name": None}


# -- the client side of a case ----------------------------------------------------------


class Api:
    """One case's view of the emulator: writes, reads and refusals through the client."""

    def __init__(self, iovox: AsyncIovox, emulator: RunningEmulator) -> None:
        self.iovox = iovox
        self.emulator = emulator
        self.admin_reads = 0
        self.refusals = 0

    async def call(
        self, key: str, params: dict[str, Any] | None = None, payload: Any = None
    ) -> Any:
        """Any method by ``Interface.method``, with the catalog's HTTP verb."""
        interface, name = key.split(".")
        verb = method_of(key).http
        return await self.iovox.request(
            interface, name, params=params, payload=payload, http_method=verb, idempotent=True
        )

    async def write(self, key: str, payload: dict[str, Any] | None = None, **params: Any) -> Any:
        """A write; its answer, normalised."""
        return norm(await self.call(key, params or None, payload))

    async def read(self, key: str, **params: Any) -> Any:
        """A read method's answer, normalised."""
        return norm(await self.call(key, params))

    async def rows(self, key: str, **params: Any) -> list[dict[str, Any]]:
        """The ``results/result`` rows of a list method."""
        page = await self.read(key, **params)
        results = page.get("results") or {}
        return list(results.get("result") or [])

    async def refused(
        self, key: str, payload: dict[str, Any] | None = None, **params: Any
    ) -> list[str]:
        """The error messages of a request that must fail with 400."""
        self.refusals += 1
        with pytest.raises(BadRequestError) as caught:
            await self.call(key, params or None, payload)
        return [item.message for item in caught.value.errors]

    async def admin_state(self) -> dict[str, Any]:
        """``GET /_emulator/state``: record counts, for effects no API method shows."""
        self.admin_reads += 1
        async with httpx.AsyncClient(base_url=self.emulator.base_url) as admin:
            answer = await admin.get("/_emulator/state")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def free_numbers(self, count: int) -> list[str]:
        """Numbers of the account not on any link."""
        rows = await self.rows(
            "Voxnumbers.getVoxnumbers", assigned_status="UNASSIGNED", req_fields="vn", limit=count
        )
        numbers = [row["voxnumber"] for row in rows]
        assert len(numbers) == count
        return numbers

    async def number_row(self, number: str) -> dict[str, Any] | None:
        """getVoxnumbers' row of one number (None once it left the account)."""
        rows = await self.rows(
            "Voxnumbers.getVoxnumbers", voxnumber=number, req_fields="vn,as,cs,cc,lid"
        )
        return rows[0] if rows else None

    async def link(self, link_id: str) -> dict[str, Any] | None:
        """getLinks' row of one link (None once deleted)."""
        rows = await self.rows("Links.getLinks", link_id=link_id)
        return rows[0] if rows else None


def cats(row: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """A getLinks row's categories as (id, label, value)."""
    assert row is not None
    found = (row.get("cats") or {}).get("cat") or []
    return [(cat["category_id"], cat["label"], cat["value"]) for cat in found]


Case = Callable[[Api], Awaitable[None]]
CASES: dict[str, Case] = {}


def readback(key: str) -> Callable[[Case], Case]:
    """Register ``case`` as the read-back test of the write ``key``."""

    def register(case: Case) -> Case:
        assert key not in CASES, f"two cases for {key}"
        CASES[key] = case
        return case

    return register


AUDIO = b"ID3\x04\x00" + bytes(range(256)) * 4
OTHER_AUDIO = b"ID3\x04\x00" + bytes(reversed(range(256))) * 2


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def flow(name: str, notes: str, label: str = "Closed") -> dict[str, Any]:
    """A small call flow: a play rule and a call rule with a per-link number."""
    return {
        "@name": name,
        "@notes": notes,
        "play": {
            "@id": "p1",
            "@label": label,
            "soundFile": {"@soundLabel": "closed", "@soundGroup": "out_of_hours"},
        },
        "call": {"@id": "c1", "@label": "On call", "@destinationPhoneNumber": "?"},
    }


# -- CallFlow and Flow ------------------------------------------------------------------


@readback("CallFlow.createCallFlow")
async def _(api: Api) -> None:
    await api.write("CallFlow.createCallFlow", {"callFlow": flow("Night Line", "after hours")})
    stored = (await api.read("CallFlow.getCallFlow", call_flow="Night Line"))["callFlow"]
    assert (stored["@name"], stored["@notes"]) == ("Night Line", "after hours")
    assert [(rule["@id"], rule["@label"]) for rule in stored["play"]] == [("p1", "Closed")]
    assert stored["call"][0]["@destinationPhoneNumber"] == "?"
    listed = await api.rows("CallFlow.getCallFlows", template_name="Night Line")
    assert [(row["template_type"], row["template_notes"]) for row in listed] == [
        ("CUSTOM", "after hours")
    ]


@readback("CallFlow.updateCallFlow")
async def _(api: Api) -> None:
    users = [
        row["link_id"]
        for row in await api.rows("Links.getLinks")
        if row["rule_name"] == "Call Sales"
    ]
    assert users
    changed = {**flow("Call Sales", "revised", label="Shut"), "@newName": "Sales Line"}
    await api.write("CallFlow.updateCallFlow", {"callFlow": changed})
    stored = (await api.read("CallFlow.getCallFlow", call_flow="Sales Line"))["callFlow"]
    assert (stored["@name"], stored["@notes"], stored["play"][0]["@label"]) == (
        "Sales Line",
        "revised",
        "Shut",
    )
    assert await api.refused("CallFlow.getCallFlow", call_flow="Call Sales") == [
        "Call Flow Doesn't exist"
    ]
    assert (await api.link(users[0]) or {})["rule_name"] == "Sales Line", "links follow a rename"


@readback("CallFlow.deleteCallFlows")
async def _(api: Api) -> None:
    assert await api.refused("CallFlow.deleteCallFlows", call_flows="Call Sales") == [
        "Call Flow 1 of 1 is attached to a Link"
    ]
    await api.write("CallFlow.deleteCallFlows", call_flows="Call Sales", detach_from_links="TRUE")
    assert await api.refused("CallFlow.getCallFlow", call_flow="Call Sales") == [
        "Call Flow Doesn't exist"
    ]
    assert await api.rows("Nodes.getNodes", rule_name="Call Sales") == []
    assert await api.refused("CallFlow.deleteCallFlows", call_flows="Call Sales") == [
        "Call Flow 1 of 1 does not exist"
    ]


SMS_FLOW = {
    "@name": "SMS Agent",
    "@notes": "fwd",
    "sendSms": {
        "@id": "1",
        "@label": "Send SMS",
        "@from": "$_smsOrigin",
        "@destinationPhoneNumber": "?",
    },
}


@readback("Flow.createFlow")
async def _(api: Api) -> None:
    await api.write("Flow.createFlow", {"smsFlow": SMS_FLOW})
    stored = (await api.read("Flow.getFlow", flow_name="SMS Agent", flow_type="SMS"))["smsFlow"]
    assert (stored["@notes"], stored["sendSms"][0]["@from"]) == ("fwd", "$_smsOrigin")
    listed = await api.rows("Flow.getFlows", flow_type="SMS", req_fields="tna,tno")
    assert listed == [{"template_name": "SMS Agent", "template_notes": "fwd"}]


@readback("Flow.updateFlow")
async def _(api: Api) -> None:
    await api.write("Flow.updateFlow", {"callFlow": flow("Support Line", "second", label="Hi")})
    stored = (await api.read("Flow.getFlow", flow_name="Support Line", flow_type="Call"))[
        "callFlow"
    ]
    assert (stored["@notes"], stored["play"][0]["@label"]) == ("second", "Hi")
    listed = await api.rows("Flow.getFlows", template_name="Support Line", req_fields="tno")
    assert listed == [{"template_notes": "second"}]


@readback("Flow.deleteFlows")
async def _(api: Api) -> None:
    await api.write("Flow.deleteFlows", flows="Support Line", detach_from_links="TRUE")
    assert await api.refused("Flow.getFlow", flow_name="Support Line", flow_type="Call") == [
        "Flow Doesn't exist"
    ]
    assert await api.rows("Flow.getFlows", template_name="Support Line") == []
    assert await api.refused("Flow.deleteFlows", flows="Support Line") == [
        "Flow 1 of 1 does not exist"
    ]


# -- Calling, Calls, SMS ----------------------------------------------------------------


@readback("Calling.initiateCall")
async def _(api: Api) -> None:
    before = await api.rows("Calls.getCallData", ctype="API")
    await api.write(
        "Calling.initiateCall",
        {"link_id": "L00003", "call_variables": {"call_destination": "447700900555"}},
    )
    rows = await api.rows("Calls.getCallData", ctype="API", req_fields="id,ctype,lid,cd")
    assert len(rows) == len(before) + 1
    assert {(row["call_type"], row["link_id"], row["call_destination"]) for row in rows} == {
        ("API", "L00003", "447700900555")
    }


@readback("Calls.transcribeCallRecording")
async def _(api: Api) -> None:
    """No API method shows a transcription request: the admin state counts them."""
    calls = await api.rows(
        "Calls.getCallData", sdt="2000-01-01", req_fields="id,has_rec", limit=200
    )
    recorded = [row["id"] for row in calls if row["has_recording"] == "1"][:2]
    assert len(recorded) == 2
    before = (await api.admin_state())["transcriptions"]
    payload = {"calls": {"call": [{"id": call_id} for call_id in recorded]}}
    await api.write("Calls.transcribeCallRecording", payload)
    assert (await api.admin_state())["transcriptions"] == before + 2


@readback("SMS.sendSms")
async def _(api: Api) -> None:
    sent = await api.write(
        "SMS.sendSms", {"origin": "IOVOX", "destination": "447700900123", "message": "hi there"}
    )
    (row,) = await api.rows("SMS.getSmsData", sms_activity_id=sent["sms_activity_id"])
    assert (row["origin"], row["destination"], row["message"]) == (
        "IOVOX",
        "447700900123",
        "hi there",
    )
    history = await api.rows("SMS.getSmsHistory", destination="447700900123", req_fields="s,d,m")
    assert [(row["sender"], row["message"]) for row in history] == [("IOVOX", "hi there")]


# -- Categories -------------------------------------------------------------------------


async def top_level(api: Api) -> dict[str, str]:
    return {row["category_id"]: row["label"] for row in await api.rows("Categories.getCategories")}


@readback("Categories.createCategoryConfigurations")
async def _(api: Api) -> None:
    category = {"category_id": "900", "label": "Agent", "colour": "#FF8800"}
    await api.write("Categories.createCategoryConfigurations", {"category": [category]})
    assert (await top_level(api))["900"] == "Agent"


@readback("Categories.createCategories")
async def _(api: Api) -> None:
    value = {"parent_category_id": "200", "category_id": "297", "label": "Channel", "value": "Kite"}
    await api.write("Categories.createCategories", {"category": [value]})
    found = await api.rows("Categories.getCategoryId", label="Channel", value="Kite")
    assert [row["category_id"] for row in found] == ["297"]
    children = await api.rows("Categories.getCategories", parent_category_id="200")
    assert {row["category_id"]: row["value"] for row in children}["297"] == "Kite"


@readback("Categories.deleteCategoryConfigurations")
async def _(api: Api) -> None:
    assert "300" in await top_level(api)
    await api.write("Categories.deleteCategoryConfigurations", categories_ids="300")
    assert "300" not in await top_level(api)
    assert await api.rows("Categories.getCategoryId", label="Campaign", value="Spring") == []
    assert await api.refused("Categories.deleteCategoryConfigurations", categories_ids="300") == [
        "Category ID 1 of 1 does not exist"
    ]


@readback("Categories.deleteCategories")
async def _(api: Api) -> None:
    await api.write("Categories.deleteCategories", categories="Campaign;301")
    assert await api.rows("Categories.getCategoryId", label="Campaign", value="Spring") == []
    children = await api.rows("Categories.getCategories", parent_category_id="300")
    assert "301" not in {row["category_id"] for row in children}
    assert await api.refused("Categories.deleteCategories", categories="Campaign;301") == [
        "Category ID 1 of 1 does not exist"
    ]


# -- Clis (no read method in the API) ----------------------------------------------------


@readback("Clis.createClis")
async def _(api: Api) -> None:
    """The API lists no CLIs: read through "already exists" and the admin state's count."""
    before = (await api.admin_state())["clis"]
    await api.write("Clis.createClis", {"cli": ["447700900901"]})
    assert (await api.admin_state())["clis"] == before + 1
    assert await api.refused("Clis.createClis", {"cli": ["447700900901"]}) == [
        "Cli 1 of 1 already exists"
    ]


@readback("Clis.deleteClis")
async def _(api: Api) -> None:
    """The API lists no CLIs: read through the admin state's count and the second delete."""
    before = (await api.admin_state())["clis"]
    await api.write("Clis.deleteClis", clis=CLIS[1])
    assert (await api.admin_state())["clis"] == before - 1
    assert await api.refused("Clis.deleteClis", clis=CLIS[1]) == ["Cli 1 of 1 does not exist"]
    await api.write("Clis.createClis", {"cli": [CLIS[1]]})  # gone, so it can be created again


# -- Contacts ---------------------------------------------------------------------------

CONTACT = {
    "display_name": "Ada Lovelace",
    "first_name": "Ada",
    "company": "Engines Ltd",
    "email": "ada@example.com",
    "business_phone": "442070000001",
    "work_city": "London",
}


async def contact_details(api: Api, contact_id: str) -> dict[str, Any]:
    (row,) = await api.rows("Contacts.getContactDetails", contact_id=contact_id)
    return row


@readback("Contacts.createContacts")
async def _(api: Api) -> None:
    await api.write("Contacts.createContacts", {"contact": [{"contact_id": "NEW-C1", **CONTACT}]})
    details = await contact_details(api, "NEW-C1")
    expected = {**CONTACT, "business_phone": ["442070000001"]}
    assert {name: details[name] for name in expected} == expected
    (listed,) = await api.rows("Contacts.getContacts", contact_id="NEW-C1")
    assert (listed["display_name"], listed["assigned_status"]) == ("Ada Lovelace", "UNASSIGNED")


@readback("Contacts.updateContacts")
async def _(api: Api) -> None:
    before = await contact_details(api, "C0002")
    change = {"contact_id": "C0002", "new_contact_id": "NEW-C2", "display_name": "Renamed"}
    await api.write("Contacts.updateContacts", {"contact": [change]})
    after = await contact_details(api, "NEW-C2")
    assert after == {**before, "contact_id": "NEW-C2", "display_name": "Renamed"}
    assert await api.refused("Contacts.getContactDetails", contact_id="C0002") == [
        "Contact ID does not exist"
    ]


@readback("Contacts.deleteContacts")
async def _(api: Api) -> None:
    free = await api.rows("Contacts.getContacts", req_fields="cid,as")
    contact_id = next(row["contact_id"] for row in free if row["assigned_status"] == "UNASSIGNED")
    await api.write("Contacts.deleteContacts", contact_ids=contact_id)
    assert await api.refused("Contacts.getContactDetails", contact_id=contact_id) == [
        "Contact ID does not exist"
    ]
    assert await api.rows("Contacts.getContacts", contact_id=contact_id) == []
    assert await api.refused("Contacts.deleteContacts", contact_ids=contact_id) == [
        "Contact ID 1 of 1 does not exist"
    ]
    # L00001's variable call rule uses C0001: rm_rules=TRUE detaches L00001's call flow.
    assert (await api.link("L00001") or {})["rule_name"] == "Voicemail Only"
    assert await api.refused("Contacts.deleteContacts", contact_ids="C0001") == [
        "Contact 1 of 1 is used in Rules or Rule Templates"
    ]
    await api.write("Contacts.deleteContacts", contact_ids="C0001", rm_rules="TRUE")
    assert (await api.link("L00001") or {})["rule_name"] is None
    (details,) = await api.rows("Nodes.getNodeDetails", node_id="N0001", link_id="L00001")
    (link,) = details["links"]["link"]
    assert ((link["rules"] or {}).get("rule") or []) == [], "its variable rules went too"


# -- JsApi and User ---------------------------------------------------------------------


@readback("JsApi.createActionKey")
async def _(api: Api) -> None:
    before = await api.read("JsApi.getActionKey")
    created = await api.write("JsApi.createActionKey")
    assert created != before
    assert await api.read("JsApi.getActionKey") == created


@readback("User.userPortalLogin")
async def _(api: Api) -> None:
    """Tokens are single-use and never listed by the API: the admin state counts them."""
    before = (await api.admin_state())["portal_logins"]
    first = await api.read("User.userPortalLogin")
    second = await api.read("User.userPortalLogin")
    assert first["login_url"] != second["login_url"]
    assert (await api.admin_state())["portal_logins"] == before + 2


# -- Links ------------------------------------------------------------------------------


@readback("Links.createLinks")
async def _(api: Api) -> None:
    link = {
        "node_id": "N0002",
        "link_id": "NEW-L1",
        "link_name": "Kiosk",
        "link_type": "Poster",
        "categories": {"category": [{"category_id": "202"}]},
    }
    await api.write("Links.createLinks", {"link": [link]})
    row = await api.link("NEW-L1")
    assert row is not None
    assert (row["node_id"], row["link_name"], row["link_type"]) == ("N0002", "Kiosk", "Poster")
    assert cats(row) == [("202", "Channel", "Newspaper")]
    (node,) = await api.rows("Nodes.getNodeDetails", node_id="N0002")
    assert "NEW-L1" in [item["link_id"] for item in node["links"]["link"]]


@readback("Links.createLinksFull")
async def _(api: Api) -> None:
    (number,) = await api.free_numbers(1)
    link = {
        "link_id": "NEW-L1",
        "link_name": "Web",
        "link_type": "Website",
        "rule_template_name": "Call Forward",
        "assign_voxnumber": {"method": "BY VOXNUMBER", "full_voxnumber": number},
    }
    created = await api.write(
        "Links.createLinksFull", {"node": {"node_id": "N0001", "links": {"link": [link]}}}
    )
    assert created["node_id"] == "N0001"
    row = await api.link("NEW-L1")
    assert row is not None
    assert (row["node_id"], row["link_name"], row["voxnumber"], row["rule_name"]) == (
        "N0001",
        "Web",
        number,
        "Call Forward",
    )
    vox = await api.number_row(number)
    assert vox is not None
    assert (vox["link_id"], vox["assigned_status"], vox["call_status"]) == (
        "NEW-L1",
        "ASSIGNED",
        "ACTIVE",
    )


@readback("Links.updateLinks")
async def _(api: Api) -> None:
    old = await api.link("L00001")
    assert old is not None and old["voxnumber"]
    change = {
        "link_id": "L00001",
        "new_link_id": "NEW-L1",
        "link_name": "Renamed",
        "link_type": "Radio",
    }
    await api.write("Links.updateLinks", {"link": [change]})
    row = await api.link("NEW-L1")
    assert row == {**old, "link_id": "NEW-L1", "link_name": "Renamed", "link_type": "Radio"}
    assert await api.link("L00001") is None
    vox = await api.number_row(old["voxnumber"])
    assert vox is not None and vox["link_id"] == "NEW-L1", "the number follows the new id"


@readback("Links.deleteLinks")
async def _(api: Api) -> None:
    old = await api.link("L00001")
    assert old is not None
    await api.write("Links.deleteLinks", link_ids="L00001")
    assert await api.link("L00001") is None
    vox = await api.number_row(old["voxnumber"])
    assert vox is not None and vox["assigned_status"] == "UNASSIGNED", "back in the pool"
    assert await api.refused("Links.deleteLinks", link_ids="L00001") == [
        "Link ID 1 of 1 does not exist"
    ]


@readback("Links.attachVoxnumberToLink")
async def _(api: Api) -> None:
    await api.write("Links.removeVoxnumberFromLink", {"link_id": ["L00001"]})
    (number,) = await api.free_numbers(1)
    item = {"link_id": "L00001", "method": "BY VOXNUMBER", "full_voxnumber": number}
    await api.write("Links.attachVoxnumberToLink", {"link": [item]})
    assert (await api.link("L00001") or {})["voxnumber"] == number
    vox = await api.number_row(number)
    assert vox is not None and (vox["link_id"], vox["assigned_status"]) == ("L00001", "ASSIGNED")


@readback("Links.removeVoxnumberFromLink")
async def _(api: Api) -> None:
    number = (await api.link("L00001") or {})["voxnumber"]
    await api.write("Links.removeVoxnumberFromLink", {"link_id": ["L00001"]})
    assert (await api.link("L00001") or {})["voxnumber"] in ("", None)
    vox = await api.number_row(number)
    assert vox is not None and vox["assigned_status"] == "UNASSIGNED"
    assert await api.refused("Links.removeVoxnumberFromLink", {"link_id": ["L00001"]}) == [
        "Link ID 1 of 1 does not have a VoxNumber"
    ]


@readback("Links.attachRuleTemplateToLinks")
async def _(api: Api) -> None:
    contact = {"contact_id": "C0003", "phone_number": "442073334444"}
    rule = {"rule_id": "c1", "rule_type": "call", "rule_label": "On call", "contact": contact}
    await api.write("CallFlow.createCallFlow", {"callFlow": flow("Night Line", "")})
    payload = {
        "template_name": "Night Line",
        "overwrite_existing": "TRUE",
        "link_ids": {"link_id": ["L00001"]},
        "rules_variable": {"rule": [rule]},
    }
    await api.write("Links.attachRuleTemplateToLinks", payload)
    assert (await api.link("L00001") or {})["rule_name"] == "Night Line"
    variables = await api.read("Rules.getVariableRulesOfTemplate", link_id="L00001")
    (found,) = variables["rules"]["rule"]
    assert (found["rule_id"], found["contact"]) == ("c1", contact)


@readback("Links.removeRuleTemplateFromLinks")
async def _(api: Api) -> None:
    number = (await api.link("L00001") or {})["voxnumber"]
    await api.write("Links.removeRuleTemplateFromLinks", {"link_ids": {"link_id": ["L00001"]}})
    assert (await api.link("L00001") or {})["rule_name"] in ("", None)
    assert (await api.number_row(number) or {})["call_status"] == "NO RULES"


async def sms_flow_on_link(api: Api) -> None:
    """A new SMS flow attached to L00001 as its SMS template."""
    await api.write("Flow.createFlow", {"smsFlow": SMS_FLOW})
    payload = {
        "template_name": "SMS Agent",
        "overwrite_existing": "FALSE",
        "link_ids": {"link_id": ["L00001"]},
    }
    await api.write("Links.attachSMSTemplateToLinks", payload)


@readback("Links.attachSMSTemplateToLinks")
async def _(api: Api) -> None:
    """getLinks shows no SMS template: read through the "attached" refusals."""
    await sms_flow_on_link(api)
    again = {
        "template_name": "SMS Agent",
        "overwrite_existing": "FALSE",
        "link_ids": {"link_id": ["L00001"]},
    }
    assert await api.refused("Links.attachSMSTemplateToLinks", again) == [
        "Link ID 1 of 1 already has a SMS Template"
    ]
    assert await api.refused("Flow.deleteFlows", flows="SMS Agent") == [
        "Flow 1 of 1 is attached to a Link"
    ]
    listed = await api.rows("Flow.getFlows", flow_type="SMS", req_fields="tna")
    assert listed == [{"template_name": "SMS Agent"}], "the attached flow was kept"


@readback("Links.removeSMSTemplateFromLinks")
async def _(api: Api) -> None:
    """getLinks shows no SMS template: the flow can be deleted unforced once detached."""
    await sms_flow_on_link(api)
    await api.write("Links.removeSMSTemplateFromLinks", {"link_ids": {"link_id": ["L00001"]}})
    await api.write("Flow.deleteFlows", flows="SMS Agent")
    assert await api.rows("Flow.getFlows", flow_type="SMS") == []


@readback("Links.attachCategoryToLink")
async def _(api: Api) -> None:
    item = {
        "link_id": "L00001",
        "parent_category_id": "300",
        "category_id": "304",
        "value": "Winter",
    }
    await api.write("Links.attachCategoryToLink", {"link": [item]})
    assert ("304", "Campaign", "Winter") in cats(await api.link("L00001"))
    found = await api.rows("Categories.getCategoryId", label="Campaign", value="Winter")
    assert [row["category_id"] for row in found] == ["304"]


@readback("Links.removeCategoryFromLink")
async def _(api: Api) -> None:
    before = cats(await api.link("L00001"))
    assert ("201", "Channel", "Website") in before
    item = {"link_id": "L00001", "category_id": "201", "label": "Channel"}
    await api.write("Links.removeCategoryFromLink", {"link": [item]})
    assert cats(await api.link("L00001")) == [cat for cat in before if cat[0] != "201"]


# -- Nodes ------------------------------------------------------------------------------


async def node(api: Api, node_id: str) -> dict[str, Any]:
    (row,) = await api.rows("Nodes.getNodeDetails", node_id=node_id)
    return row


@readback("Nodes.createNodes")
async def _(api: Api) -> None:
    item = {
        "node_id": "NEW-1",
        "node_name": "Shop",
        "node_type": "Store",
        "node_date": "2026-01-02 03:04:05",
    }
    await api.write("Nodes.createNodes", {"node": [item]})
    details = await node(api, "NEW-1")
    assert {name: details[name] for name in item} == item
    (listed,) = await api.rows("Nodes.getNodes", node_id="NEW-1")
    assert (listed["node_name"], listed["link_id"]) == ("Shop", None)


@readback("Nodes.createNodeFull")
async def _(api: Api) -> None:
    link = {
        "link_id": "NEW-L1",
        "link_name": "Web",
        "link_type": "Website",
        "rule_template_name": "Call Sales",
        "categories": {"category": [{"category_id": "201"}]},
    }
    node_item = {
        "node_id": "NEW-1",
        "node_name": "Shop",
        "node_type": "Store",
        "links": {"link": [link]},
    }
    await api.write("Nodes.createNodeFull", {"node": node_item})
    details = await node(api, "NEW-1")
    (stored,) = details["links"]["link"]
    assert (
        details["node_name"],
        stored["link_id"],
        stored["link_name"],
        stored["rule_template_name"],
    ) == (
        "Shop",
        "NEW-L1",
        "Web",
        "Call Sales",
    )
    assert cats(await api.link("NEW-L1")) == [("201", "Channel", "Website")]


@readback("Nodes.updateNodes")
async def _(api: Api) -> None:
    before = await node(api, "N0001")
    change = {"node_id": "N0001", "new_node_id": "NEW-1", "node_name": "Renamed"}
    await api.write("Nodes.updateNodes", {"node": [change]})
    after = await node(api, "NEW-1")
    assert after == {**before, "node_id": "NEW-1", "node_name": "Renamed"}
    assert await api.refused("Nodes.getNodeDetails", node_id="N0001") == ["Node ID Doesn't exist"]
    links = await api.rows("Links.getLinks", node_id="NEW-1")
    assert links and {row["node_name"] for row in links} == {"Renamed"}


@readback("Nodes.deleteNodes")
async def _(api: Api) -> None:
    links = [row["link_id"] for row in await api.rows("Links.getLinks", node_id="N0001")]
    assert links
    await api.write("Nodes.deleteNodes", node_ids="N0001")
    assert await api.refused("Nodes.getNodeDetails", node_id="N0001") == ["Node ID Doesn't exist"]
    assert await api.rows("Nodes.getNodes", node_id="N0001") == []
    assert [await api.link(link_id) for link_id in links] == [None] * len(links), "links went too"
    assert await api.refused("Nodes.deleteNodes", node_ids="N0001") == [
        "Node ID 1 of 1 does not exist"
    ]


# -- Purchase and Voxnumbers ------------------------------------------------------------


@readback("Purchase.purchaseVoxNumbers")
async def _(api: Api) -> None:
    item = {"country_code": "44", "area_code": "20", "number_type": "GEOGRAPHIC", "quantity": "2"}
    order = await api.write("Purchase.purchaseVoxNumbers", {"items": {"item": [item]}})
    numbers = [vox["full_voxnumber"] for vox in order["voxnumbers"]["voxnumber"]]
    assert len(numbers) == 2
    (details,) = await api.rows(
        "Purchase.getOrderDetails", order_reference=order["order_reference"]
    )
    assert details["order_status"] == "COMPLETED"
    assert [vox["full_voxnumber"] for vox in details["voxnumbers"]["voxnumber"]] == numbers
    for number in numbers:
        vox = await api.number_row(number)
        assert vox is not None
        assert (vox["assigned_status"], vox["country_code"]) == ("UNASSIGNED", "44")


@readback("Voxnumbers.setCallStatus")
async def _(api: Api) -> None:
    number = (await api.link("L00001") or {})["voxnumber"]
    await api.write(
        "Voxnumbers.setCallStatus", {"call_status": "OFF", "voxnumbers": {"voxnumber": [number]}}
    )
    assert (await api.number_row(number) or {})["call_status"] == "OFF"
    await api.write(
        "Voxnumbers.setCallStatus", {"call_status": "ON", "voxnumbers": {"voxnumber": [number]}}
    )
    assert (await api.number_row(number) or {})["call_status"] == "ACTIVE"


@readback("Voxnumbers.deleteVoxnumbersFromAccount")
async def _(api: Api) -> None:
    (number,) = await api.free_numbers(1)
    await api.write("Voxnumbers.deleteVoxnumbersFromAccount", full_voxnumbers=number)
    assert await api.number_row(number) is None
    assert await api.refused("Voxnumbers.deleteVoxnumbersFromAccount", full_voxnumbers=number) == [
        "VoxNumber 1 of 1 does not exists"
    ]


@readback("Voxnumbers.transferVoxnumbers")
async def _(api: Api) -> None:
    """The receiving partner is not visible to the API: the admin state counts transfers."""
    (number,) = await api.free_numbers(1)
    before = (await api.admin_state())["transferred_voxnumbers"]
    payload = {
        "origin_partner_name": "emulator-partner",
        "destination_partner_name": "emulator-partner-2",
        "voxnumbers": {"voxnumber": [number]},
    }
    await api.write("Voxnumbers.transferVoxnumbers", payload)
    assert await api.number_row(number) is None
    assert (await api.admin_state())["transferred_voxnumbers"] == before + 1
    assert await api.refused("Voxnumbers.transferVoxnumbers", payload) == [
        "voxnumber 1 of 1 does not exist"
    ]


# -- Rules: time templates and blocked numbers ------------------------------------------

FRAME = {"recurrence": "NONE", "time_from": "12:00", "time_to": "14:00", "days": {"day": ["MON"]}}


async def template_labels(api: Api) -> list[str]:
    rows = await api.rows("Rules.getTimeTemplates", req_fields="l", order="l_ASC")
    return [row["label"] for row in rows]


async def frames(api: Api, label: str) -> list[tuple[str, str, list[str]]]:
    (row,) = await api.rows("Rules.getTimeTemplates", time_template_label=label)
    found = row["time_frames"]["time_frame"]
    return [(frame["time_from"], frame["time_to"], frame["days"]["day"]) for frame in found]


@readback("Rules.createTimeTemplates")
async def _(api: Api) -> None:
    template = {"label": "Lunch", "time_frames": {"time_frame": [FRAME]}}
    await api.write("Rules.createTimeTemplates", {"time_template": [template]})
    assert await frames(api, "Lunch") == [("12:00", "14:00", ["MON"])]


@readback("Rules.updateTimeTemplates")
async def _(api: Api) -> None:
    frame = {**FRAME, "time_from": "09:00", "days": {"day": ["TUE", "WED"]}}
    change = {"label": "Christmas", "new_label": "Xmas", "time_frames": {"time_frame": [frame]}}
    await api.write("Rules.updateTimeTemplates", {"time_template": [change]})
    assert await frames(api, "Xmas") == [("09:00", "14:00", ["TUE", "WED"])]
    assert "Christmas" not in await template_labels(api)


@readback("Rules.deleteTimeTemplates")
async def _(api: Api) -> None:
    await api.write("Rules.deleteTimeTemplates", time_template_labels="Working hours")
    assert "Working hours" not in await template_labels(api)
    assert await api.refused("Rules.deleteTimeTemplates", time_template_labels="Working hours") == [
        "time_template_label 1 of 1 does not exist"
    ]


async def blocked(api: Api, number: str) -> list[dict[str, Any]]:
    return await api.rows("Rules.getBlockedNumbers", number=number, req_fields="no,op,ioo,rules")


BLOCKED = {"number": "447700900555", "in_or_out": "OUT", "operator": "EQUALS", "default": "ALLOW"}


@readback("Rules.createBlockedNumbers")
async def _(api: Api) -> None:
    rule = {
        "link_ids": {"link_id": ["L00001", "L00002"]},
        "time_template": "Working hours",
        "blocking_type": "BLOCK",
    }
    await api.write(
        "Rules.createBlockedNumbers", {"blocked_number": [{**BLOCKED, "rules": {"rule": [rule]}}]}
    )
    (row,) = await blocked(api, "447700900555")
    assert (row["in_or_out"].upper(), row["operator"], row["default"]) == ("OUT", "EQUALS", "ALLOW")
    (stored,) = row["rules"]["rule"]
    assert (stored["links"]["link_id"], stored["time_template"], stored["blocking_type"]) == (
        ["L00001", "L00002"],
        "Working hours",
        "BLOCK",
    )


@readback("Rules.updateBlockedNumbers")
async def _(api: Api) -> None:
    await api.write("Rules.createBlockedNumbers", {"blocked_number": [BLOCKED]})
    change = {**BLOCKED, "new_operator": "STARTSWITH", "default": "BLOCK"}
    await api.write("Rules.updateBlockedNumbers", {"blocked_number": [change]})
    (row,) = await blocked(api, "447700900555")
    assert (row["operator"], row["default"]) == ("STARTSWITH", "BLOCK")


@readback("Rules.deleteBlockedNumbers")
async def _(api: Api) -> None:
    await api.write("Rules.createBlockedNumbers", {"blocked_number": [BLOCKED]})
    await api.write("Rules.deleteBlockedNumbers", blocked_numbers="447700900555;OUT;EQUALS")
    listed = await api.rows("Rules.getBlockedNumbers", req_fields="no")
    assert "447700900555" not in [row["number"] for row in listed]
    assert await api.refused("Rules.getBlockedNumbers", number="447700900555") == [
        "Number does not exist"
    ]
    gone = await api.refused(
        "Rules.deleteBlockedNumbers", blocked_numbers="447700900555;OUT;EQUALS"
    )
    assert gone == ["Blocked Number 1 of 1 does not exist"]


# -- SoundFiles -------------------------------------------------------------------------


async def sound_row(api: Api, label: str, group: str) -> dict[str, Any] | None:
    rows = await api.rows("SoundFiles.getSoundFiles", sound_label=label, sound_group=group)
    return rows[0] if rows else None


@readback("SoundFiles.createSoundFiles")
async def _(api: Api) -> None:
    item = {"sound_label": "new-1", "sound_group": "shop", "sound_file": b64(AUDIO), "notes": "hi"}
    await api.write("SoundFiles.createSoundFiles", {"sound_file": [item]})
    row = await sound_row(api, "new-1", "shop")
    assert row is not None and (row["notes"], row["content_length"]) == ("hi", str(len(AUDIO)))
    data = await api.call(
        "SoundFiles.getSoundFileData", {"sound_label": "new-1", "sound_group": "shop"}
    )
    assert data == AUDIO


@readback("SoundFiles.updateSoundFiles")
async def _(api: Api) -> None:
    item = {
        "sound_label": "welcome",
        "sound_group": "default",
        "new_sound_label": "hello",
        "sound_file": b64(OTHER_AUDIO),
        "notes": "new voice",
    }
    await api.write("SoundFiles.updateSoundFiles", {"sound_file": [item]})
    assert await sound_row(api, "welcome", "default") is None
    row = await sound_row(api, "hello", "default")
    assert row is not None and row["notes"] == "new voice"
    data = await api.call(
        "SoundFiles.getSoundFileData", {"sound_label": "hello", "sound_group": "default"}
    )
    assert data == OTHER_AUDIO


@readback("SoundFiles.deleteSoundFiles")
async def _(api: Api) -> None:
    await api.write("SoundFiles.deleteSoundFiles", sound_files="welcome;default")
    assert await sound_row(api, "welcome", "default") is None
    params = {"sound_label": "welcome", "sound_group": "default"}
    assert await api.refused("SoundFiles.getSoundFileData", **params) == [
        "Sound File does not exist"
    ]
    assert await api.refused("SoundFiles.deleteSoundFiles", sound_files="welcome;default") == [
        "Sound File 1 of 1 Does not exist"
    ]


@readback("SoundFiles.uploadSoundFileData")
async def _(api: Api) -> None:
    params = {"sound_label": "welcome", "sound_group": "default"}
    await api.write("SoundFiles.uploadSoundFileData", {"sound_file": b64(OTHER_AUDIO)}, **params)
    assert await api.call("SoundFiles.getSoundFileData", params) == OTHER_AUDIO
    assert (await sound_row(api, "welcome", "default") or {})["content_length"] == str(
        len(OTHER_AUDIO)
    )


@readback("SoundFiles.deleteSoundFile")
async def _(api: Api) -> None:
    params = {"sound_label": "welcome", "sound_group": "default"}
    await api.write("SoundFiles.deleteSoundFile", **params)
    assert await sound_row(api, "welcome", "default") is None
    assert await api.refused("SoundFiles.deleteSoundFile", **params) == [
        "Sound File does not exist"
    ]


# -- Subscriptions and Users ------------------------------------------------------------

NO_SUBSCRIPTION = ["There are no active subscriptions in this account"]


@readback("Subscriptions.updateSubscriptionDetails")
async def _(api: Api) -> None:
    """No API read shows a subscription's terms: read that it is active again (cancel
    succeeds) and that the numbers removed left the account."""
    await api.write("Subscriptions.cancelSubscription", {})
    spare = await api.free_numbers(2)
    payload = {
        "recurring_credit": "500",
        "voxnumber_quantity": "50",
        "voxnumbers_to_remove": {"voxnumber": spare},
        "billing_length": "1",
        "billing_length_unit": "M",
    }
    await api.write("Subscriptions.updateSubscriptionDetails", payload)
    assert [await api.number_row(number) for number in spare] == [None, None]
    await api.write("Subscriptions.cancelSubscription", {})


@readback("Subscriptions.cancelSubscription")
async def _(api: Api) -> None:
    await api.write("Subscriptions.cancelSubscription", {"sub_account_name": SUB_ACCOUNT})
    assert (
        await api.refused("Subscriptions.cancelSubscription", {"sub_account_name": SUB_ACCOUNT})
        == NO_SUBSCRIPTION
    )
    assert await api.refused(
        "Users.setAccountCheckCredit", {"sub_account_name": SUB_ACCOUNT, "check_credit": "TRUE"}
    ) == [
        "The account must have active subscriptions to set credit check. Create a subscription"
        " for this account first."
    ]


async def sub_account_credit(api: Api, name: str) -> dict[str, Any]:
    """getAccountCreditDetails for a sub-account: the client sets no SubAccountName header."""
    async with api.emulator.http_client() as http:
        answer = await http.get(
            "/Subscriptions",
            params={"v": "3", "method": "getAccountCreditDetails", "output": "JSON"},
            headers={"SubAccountName": name},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return dict(body.get("response", body))


@readback("Users.createSubAccount")
async def _(api: Api) -> None:
    await api.write(
        "Users.createSubAccount",
        {"account_name": "new-sub", "parent_account_name": api.emulator.username},
    )
    assert (await sub_account_credit(api, "new-sub"))["check_credit"] == "FALSE"
    await api.write(
        "Users.setAccountCheckCredit", {"sub_account_name": "new-sub", "check_credit": "TRUE"}
    )
    assert await api.refused(
        "Users.createSubAccount",
        {"account_name": "new-sub", "parent_account_name": api.emulator.username},
    ) == ["Account Name already exists"]


@readback("Users.setAccountCheckCredit")
async def _(api: Api) -> None:
    await api.write(
        "Users.setAccountCheckCredit", {"sub_account_name": SUB_ACCOUNT, "check_credit": "TRUE"}
    )
    assert (await sub_account_credit(api, SUB_ACCOUNT))["check_credit"] == "TRUE"
    own = await api.read("Subscriptions.getAccountCreditDetails")
    assert own["check_credit"] == "FALSE", "only the sub-account changed"
    await api.write(
        "Users.setAccountCheckCredit", {"sub_account_name": SUB_ACCOUNT, "check_credit": "FALSE"}
    )
    assert (await sub_account_credit(api, SUB_ACCOUNT))["check_credit"] == "FALSE"


# -- completeness and the runner --------------------------------------------------------


def test_every_write_has_a_case() -> None:
    writes = write_methods()
    assert len(writes) >= 54
    assert not set(CASES) & set(EXCLUDED), "a method is both covered and excluded"
    assert sorted(writes - set(CASES) - set(EXCLUDED)) == [], "writes without a read-back case"
    assert sorted(set(CASES) - writes) == [], "cases for methods that are not writes"
    assert sorted(set(EXCLUDED) - writes) == []
    for key in GET_WITH_EFFECTS:
        assert method_of(key).http == "GET"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningEmulator]:
    """One emulator for every case (keep-alive longer than any pause between cases)."""
    with RunningEmulator(calls=600, seed=3, keepalive_timeout=60.0) as emulator:
        yield emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def iovox(running: RunningEmulator) -> AsyncIterator[AsyncIovox]:
    """One client for every case (no retries: the first answer is what is judged)."""
    async with running.client(max_retries=0) as client:
        yield client


READS = {
    f"{interface}.{name}"
    for interface, methods in catalog().items()
    for name, method in methods.items()
    if method.http == "GET" and f"{interface}.{name}" not in GET_WITH_EFFECTS
}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("key", sorted(CASES))
async def test_write_reads_back(running: RunningEmulator, iovox: AsyncIovox, key: str) -> None:
    running.reset()  # the seed data again: every case starts from the same account
    api = Api(iovox, running)
    await CASES[key](api)
    stats = running.stats()
    done = stats["requests" if key in GET_WITH_EFFECTS else "effects"].get(key, 0)
    assert done >= 1, f"the case never applied {key}"
    reads = sum(count for name, count in stats["requests"].items() if name in READS)
    # A refusal that names the state ("already exists", "no active subscriptions") reads it.
    assert reads + api.admin_reads + api.refusals >= 1, "the case read nothing back"
