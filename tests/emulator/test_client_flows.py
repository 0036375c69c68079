"""The emulator's stateful flows driven through the client's generated coroutines.

tests/emulator/test_flows.py checks these flows with raw httpx requests (the
emulator's oracle); here the same flows go through ``AsyncIovox`` over loopback
HTTP, so payload encoding (dicts, lists, ``@attributes``, booleans), response
decoding (repeated elements as lists, ``None`` for empty elements, JSON output)
and error mapping (``BadRequestError.errors``) are exercised together. Every test
gets a fresh emulator (the ``emulator`` fixture), so state never leaks.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import pytest

from iovox_async import AsyncIovox, BadRequestError
from iovox_async.testing import RunningEmulator

SDT, EDT = "2026-07-01", "2026-10-31"


def rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``results/result`` list of a paged answer (always a list after decoding)."""
    found = page["results"]["result"]
    assert isinstance(found, list)
    return found


async def error_messages(call: Any) -> list[str]:
    """Await ``call``, expect a 400 ``BadRequestError``, return its messages."""
    with pytest.raises(BadRequestError) as caught:
        await call
    assert caught.value.status == 400
    return [item.message for item in caught.value.errors]


async def free_numbers(iovox: AsyncIovox, count: int) -> list[str]:
    page = await iovox.voxnumbers.get_voxnumbers(
        assigned_status="UNASSIGNED", req_fields=["vn", "as"], limit=count
    )
    found = rows(page)
    assert len(found) == count and {row["assigned_status"] for row in found} == {"UNASSIGNED"}
    return [row["voxnumber"] for row in found]


async def number_row(iovox: AsyncIovox, number: str) -> dict[str, Any]:
    page = await iovox.voxnumbers.get_voxnumbers(
        voxnumber=int(number), req_fields=["vn", "lid", "as", "cs"]
    )
    (row,) = rows(page)
    return row


# -- 1. nodes, links, numbers -----------------------------------------------------------


async def test_node_full_create_details_update_delete(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        (number,) = await free_numbers(iovox, 1)
        vox = emulator.state.voxnumbers[number]
        created = await iovox.nodes.create_node_full(
            node={
                "node_id": "SHOP-1",
                "node_name": "Tyler's Hairdressers",
                "node_type": "Shop",
                "links": {
                    "link": [
                        {
                            "link_id": "SHOP-1-WEB",
                            "link_name": "Website",
                            "link_type": "Website",
                            "click_to_call": "1",
                            "rule_template_name": "Call Sales",
                            "rules_variable": {
                                "rule": {
                                    "rule_id": "call",
                                    "rule_type": "call",
                                    "rule_label": "Forward",
                                    "contact": {
                                        "contact_id": "C0001",
                                        "phone_number": "442071234567",
                                    },
                                }
                            },
                            "assign_voxnumber": {
                                "method": "BY AREA",
                                "voxnumber_idd": vox.country_code,
                                "area_code": vox.area_code,
                            },
                            "categories": {"category": {"category_id": "201"}},
                        },
                        {
                            "link_id": "SHOP-1-PAPER",
                            "link_name": "Newspaper",
                            "link_type": "Newspaper",
                        },
                    ]
                },
            }
        )
        assert created == {
            "node_id": "SHOP-1",
            "links": {"link": [{"link_id": "SHOP-1-WEB"}, {"link_id": "SHOP-1-PAPER"}]},
        }
        (node,) = rows(await iovox.nodes.get_node_details(node_id="SHOP-1"))
        assert (node["node_name"], node["node_type"]) == ("Tyler's Hairdressers", "Shop")
        web, paper = node["links"]["link"]
        assert web["link_id"] == "SHOP-1-WEB"
        assigned = web["voxnumber"]
        assert assigned.startswith(vox.country_code + vox.area_code)
        assert web["rule_template_name"] == "Call Sales"
        (rule,) = web["rules"]["rule"]
        assert rule["contact"] == {"contact_id": "C0001", "phone_number": "442071234567"}
        assert [(cat["category_id"], cat["value"]) for cat in web["cats"]["cat"]] == [
            ("201", "Website")
        ]
        assert (paper["link_id"], paper["voxnumber"], paper["rules"]["rule"]) == (
            "SHOP-1-PAPER",
            None,
            [],
        )
        assert await number_row(iovox, assigned) == {
            "link_id": "SHOP-1-WEB",
            "assigned_status": "ASSIGNED",
            "call_status": "ACTIVE",
            "voxnumber": assigned,
        }
        again = iovox.nodes.create_node_full(
            node={"node_id": "SHOP-1", "node_name": "Twice", "node_type": "Shop"}
        )
        assert await error_messages(again) == ["Node ID 1 of 1 already exists"]

        await iovox.nodes.update_nodes(
            node={"node_id": "SHOP-1", "new_node_id": "SHOP-2", "node_name": "Tyler's Salon"}
        )
        (renamed,) = rows(await iovox.nodes.get_node_details(node_id="SHOP-2"))
        assert (renamed["node_name"], renamed["node_type"]) == ("Tyler's Salon", "Shop")
        assert [link["link_id"] for link in renamed["links"]["link"]] == [
            "SHOP-1-WEB",
            "SHOP-1-PAPER",
        ]
        owner = await iovox.nodes.get_nodes(link_id="SHOP-1-WEB", req_fields=["nid", "nn"])
        assert [(row["node_id"], row["node_name"]) for row in rows(owner)] == [
            ("SHOP-2", "Tyler's Salon")
        ]
        gone = iovox.nodes.get_node_details(node_id="SHOP-1")
        assert await error_messages(gone) == ["Node ID Doesn't exist"]
        missing = iovox.nodes.update_nodes(node={"node_id": "SHOP-1", "node_name": "x"})
        assert await error_messages(missing) == ["Node ID 1 of 1 does not exist"]

        await iovox.nodes.delete_nodes(node_ids=["SHOP-2"])
        deleted = iovox.nodes.get_node_details(node_id="SHOP-2")
        assert await error_messages(deleted) == ["Node ID Doesn't exist"]
        released = await number_row(iovox, assigned)
        assert (released["link_id"], released["assigned_status"]) == (None, "UNASSIGNED")
        twice = iovox.nodes.delete_nodes(node_ids="SHOP-2")
        assert await error_messages(twice) == ["Node ID 1 of 1 does not exist"]
    assert emulator.effects("Nodes.createNodeFull") == 1
    assert emulator.effects("Nodes.updateNodes") == 1
    assert emulator.effects("Nodes.deleteNodes") == 1


async def test_attach_voxnumber_then_set_call_status(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        number, other = await free_numbers(iovox, 2)
        refused = iovox.voxnumbers.set_call_status(
            call_status="OFF", voxnumbers={"voxnumber": number}
        )
        assert await error_messages(refused) == ["VoxNumber 1 of 1 is not attached to a Link"]

        await iovox.links.attach_voxnumber_to_link(
            link={"link_id": "L00001", "method": "BY VOXNUMBER", "full_voxnumber": number}
        )
        assert await number_row(iovox, number) == {
            "link_id": "L00001",
            "assigned_status": "ASSIGNED",
            "call_status": "ACTIVE",
            "voxnumber": number,
        }
        on_link = await iovox.links.get_links(link_id="L00001", req_fields=["lid", "vn"])
        assert [row["voxnumber"] for row in rows(on_link)] == [number]

        await iovox.voxnumbers.set_call_status(
            call_status="OFF", voxnumbers={"voxnumber": [number]}
        )
        assert (await number_row(iovox, number))["call_status"] == "OFF"
        suspended = await iovox.voxnumbers.get_voxnumbers(call_status="OFF", req_fields=["vn"])
        assert [row["voxnumber"] for row in rows(suspended)] == [number]
        await iovox.voxnumbers.set_call_status(call_status="ON", voxnumbers={"voxnumber": number})
        assert (await number_row(iovox, number))["call_status"] == "ACTIVE"

        mixed = iovox.voxnumbers.set_call_status(
            call_status="OFF", voxnumbers={"voxnumber": [number, other]}
        )
        assert await error_messages(mixed) == ["VoxNumber 2 of 2 is not attached to a Link"]
        assert (await number_row(iovox, number))["call_status"] == "ACTIVE", "nothing applied"
        unknown = iovox.voxnumbers.set_call_status(
            call_status="ON", voxnumbers={"voxnumber": [number, 1]}
        )
        assert await error_messages(unknown) == ["VoxNumber 2 of 2 does not exist"]

        await iovox.links.remove_voxnumber_from_link(link_id="L00001")
        detached = await number_row(iovox, number)
        assert (detached["link_id"], detached["assigned_status"]) == (None, "UNASSIGNED")
        again = iovox.links.remove_voxnumber_from_link(link_id=["L00001"])
        assert await error_messages(again) == ["Link ID 1 of 1 does not have a VoxNumber"]
        after = iovox.voxnumbers.set_call_status(call_status="ON", voxnumbers={"voxnumber": number})
        assert await error_messages(after) == ["VoxNumber 1 of 1 is not attached to a Link"]
    assert emulator.effects("Links.attachVoxnumberToLink") == 1
    assert emulator.effects("Voxnumbers.setCallStatus") == 2
    assert emulator.effects("Links.removeVoxnumberFromLink") == 1


# -- 2. numbers leaving the account -----------------------------------------------------


async def test_transfer_and_delete_voxnumbers(emulator: RunningEmulator) -> None:
    origin = emulator.config.partner_name
    (destination,) = emulator.config.other_partners
    async with emulator.client() as iovox:
        listing = await iovox.voxnumbers.get_voxnumbers(req_fields=["vn", "lid", "as"])
        total = int(listing["total_results"])
        assert len(rows(listing)) == total
        free = [row["voxnumber"] for row in rows(listing) if row["assigned_status"] == "UNASSIGNED"]
        used = [row for row in rows(listing) if row["assigned_status"] == "ASSIGNED"]
        first, second, third = free[:3]
        in_use, in_use_link = used[0]["voxnumber"], used[0]["link_id"]

        async def count() -> int:
            page = await iovox.voxnumbers.get_voxnumbers(req_fields=["vn"], limit=1)
            return int(page["total_results"])

        nobody = iovox.voxnumbers.transfer_voxnumbers(
            origin_partner_name=origin,
            destination_partner_name="nobody",
            voxnumbers={"voxnumber": [first]},
        )
        assert await error_messages(nobody) == ["Destination Partner Name does not exist"]
        busy = iovox.voxnumbers.transfer_voxnumbers(
            origin_partner_name=origin,
            destination_partner_name=destination,
            voxnumbers={"voxnumber": [first, in_use]},
        )
        assert await error_messages(busy) == ["voxnumber 2 of 2 is not available"]
        assert await count() == total, "a refused transfer moves nothing"

        await iovox.voxnumbers.transfer_voxnumbers(
            origin_partner_name=origin,
            destination_partner_name=destination,
            voxnumbers={"voxnumber": [first, int(second)]},
        )
        assert await count() == total - 2
        for number in (first, second):
            page = await iovox.voxnumbers.get_voxnumbers(voxnumber=int(number))
            assert (page["total_results"], rows(page)) == (0, [])
        assert emulator.state.transferred == {first: destination, second: destination}

        attached = iovox.voxnumbers.delete_voxnumbers_from_account(full_voxnumbers=[third, in_use])
        assert await error_messages(attached) == ["VoxNumber 2 of 2 is attached to a Link"]
        assert await count() == total - 2, "a refused delete removes nothing"
        await iovox.voxnumbers.delete_voxnumbers_from_account(
            full_voxnumbers=[third, in_use], rm_if_in_use=True
        )
        assert await count() == total - 4
        link = await iovox.links.get_links(link_id=in_use_link, req_fields=["lid", "vn"])
        assert [(row["link_id"], row["voxnumber"]) for row in rows(link)] == [(in_use_link, None)]
        again = iovox.voxnumbers.delete_voxnumbers_from_account(full_voxnumbers=third)
        assert await error_messages(again) == ["VoxNumber 1 of 1 does not exists"]
    assert emulator.effects("Voxnumbers.transferVoxnumbers") == 1
    assert emulator.effects("Voxnumbers.deleteVoxnumbersFromAccount") == 1


# -- 3. contacts ------------------------------------------------------------------------


async def test_contacts_create_get_update_delete(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        before = int((await iovox.contacts.get_contacts(limit=1))["total_results"])
        await iovox.contacts.create_contacts(
            contact=[
                {
                    "contact_id": "NEW1",
                    "display_name": "Ann Lee",
                    "company": "ACME",
                    "email": "ann@example.com",
                    "business_phone": "442070000000",
                },
                {"contact_id": "NEW2", "first_name": "Bob", "display_name": "Bob"},
            ]
        )
        assert int((await iovox.contacts.get_contacts(limit=1))["total_results"]) == before + 2
        # Filters as documented: display_name contains, phone_number matches a phone.
        found = rows(await iovox.contacts.get_contacts(display_name="ann l"))
        assert [row["contact_id"] for row in found] == ["NEW1"]
        found = rows(await iovox.contacts.get_contacts(phone_number="442070000000"))
        assert [row["contact_id"] for row in found] == ["NEW1"]
        assert rows(await iovox.contacts.get_contacts(phone_number="449999999999")) == []
        found = rows(await iovox.contacts.get_contacts(company="acme", email="ann@example.com"))
        assert [row["contact_id"] for row in found] == ["NEW1"]
        (ann,) = rows(await iovox.contacts.get_contact_details(contact_id="NEW1"))
        assert (ann["contact_id"], ann["display_name"], ann["company"], ann["email"]) == (
            "NEW1",
            "Ann Lee",
            "ACME",
            "ann@example.com",
        )
        assert ann["business_phone"] == ["442070000000"], "a repeated element, always a list"
        assert ann["first_name"] is None
        (bob,) = rows(await iovox.contacts.get_contacts(contact_id="NEW2"))
        assert bob == {
            "contact_id": "NEW2",
            "display_name": "Bob",
            "company": None,
            "email": None,
            "business_phone": None,
            "assigned_status": "UNASSIGNED",
        }
        duplicate = iovox.contacts.create_contacts(contact={"contact_id": "NEW1"})
        assert await error_messages(duplicate) == ["Contact ID 1 of 1 already exists"]

        await iovox.contacts.update_contacts(
            contact={"contact_id": "NEW1", "new_contact_id": "NEW9", "company": "Globex"}
        )
        (moved,) = rows(await iovox.contacts.get_contact_details(contact_id="NEW9"))
        assert (moved["display_name"], moved["company"], moved["business_phone"]) == (
            "Ann Lee",
            "Globex",
            ["442070000000"],
        )
        old = iovox.contacts.get_contact_details(contact_id="NEW1")
        assert await error_messages(old) == ["Contact ID does not exist"]
        await iovox.contacts.update_contacts(
            contact={"contact_id": "NEW9", "display_name": "Ann"}, replace_details="TRUE"
        )
        (replaced,) = rows(await iovox.contacts.get_contact_details(contact_id="NEW9"))
        assert (replaced["display_name"], replaced["company"], replaced["email"]) == (
            "Ann",
            None,
            None,
        )
        assert replaced["business_phone"] == []
        unknown = iovox.contacts.update_contacts(contact={"contact_id": "NOPE", "company": "x"})
        assert await error_messages(unknown) == ["Contact ID 1 of 1 does not exist"]

        await iovox.contacts.delete_contacts(contact_ids=["NEW9", "NEW2"])
        assert int((await iovox.contacts.get_contacts(limit=1))["total_results"]) == before
        assert rows(await iovox.contacts.get_contacts(contact_id="NEW9")) == []
        again = iovox.contacts.delete_contacts(contact_ids="NEW9")
        assert await error_messages(again) == ["Contact ID 1 of 1 does not exist"]
        (used,) = rows(await iovox.contacts.get_contacts(contact_id="C0001", req_fields="as"))
        assert used["assigned_status"] == "ASSIGNED"
        in_rules = iovox.contacts.delete_contacts(contact_ids="C0001")
        assert await error_messages(in_rules) == [
            "Contact 1 of 1 is used in Rules or Rule Templates"
        ]
    assert emulator.effects("Contacts.createContacts") == 1
    assert emulator.effects("Contacts.updateContacts") == 2
    assert emulator.effects("Contacts.deleteContacts") == 1


# -- 4. call flows and rule templates ---------------------------------------------------


async def test_call_flow_create_get_update_delete(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(
            call_flow={
                "@name": "Night Line",
                "@notes": "after hours",
                "play": {
                    "@id": "p1",
                    "@label": "Closed",
                    "soundFile": {"@soundLabel": "closed", "@soundGroup": "out_of_hours"},
                },
                "call": {"@id": "c1", "@label": "On call", "@destinationPhoneNumber": "?"},
            }
        )
        flow = (await iovox.call_flow.get_call_flow(call_flow="Night Line"))["callFlow"]
        assert (flow["@name"], flow["@notes"]) == ("Night Line", "after hours")
        assert flow["play"] == [
            {
                "@id": "p1",
                "@label": "Closed",
                "soundFile": [{"@soundLabel": "closed", "@soundGroup": "out_of_hours"}],
            }
        ]
        assert flow["call"] == [{"@id": "c1", "@label": "On call", "@destinationPhoneNumber": "?"}]
        assert flow["voicemail"] == []
        exists = iovox.call_flow.create_call_flow(
            call_flow={"@name": "Night Line", "call": {"@id": "c9", "@label": "x"}}
        )
        assert await error_messages(exists) == ["CallFlow Name already exists"]
        custom = await iovox.call_flow.get_call_flows(
            template_type="CUSTOM", req_fields=["tna", "tno", "tt"]
        )
        assert rows(custom)[0] == {
            "template_name": "Night Line",
            "template_notes": "after hours",
            "template_type": "CUSTOM",
        }, "newest first (c_DESC)"
        (template,) = rows(await iovox.rules.get_rule_templates(template_name="Night Line"))
        assert (template["template_type"], template["advanced"]) == ("CUSTOM", None)
        variables = await iovox.rules.get_variable_rules_of_template(template_name="Night Line")
        assert [(rule["rule_id"], rule["rule_type"]) for rule in variables["rules"]["rule"]] == [
            ("c1", "call")
        ], "only rules with '?' values are variable"

        await iovox.call_flow.update_call_flow(
            call_flow={
                "@name": "Night Line",
                "@newName": "Late Line",
                "@notes": "late",
                "call": [
                    {"@id": "c1", "@label": "On call", "@destinationPhoneNumber": "?"},
                    {"@id": "c2", "@label": "Backup", "@destinationPhoneNumber": "?"},
                ],
            }
        )
        updated = (await iovox.call_flow.get_call_flow(call_flow="Late Line"))["callFlow"]
        assert (updated["@name"], updated["@notes"]) == ("Late Line", "late")
        assert [rule["@id"] for rule in updated["call"]] == ["c1", "c2"]
        assert updated["play"] == []
        old = iovox.call_flow.get_call_flow(call_flow="Night Line")
        assert await error_messages(old) == ["Call Flow Doesn't exist"]
        variables = await iovox.rules.get_variable_rules_of_template(template_name="Late Line")
        assert [rule["rule_id"] for rule in variables["rules"]["rule"]] == ["c1", "c2"]

        attached = iovox.call_flow.delete_call_flows(call_flows=["Call Sales", "Late Line"])
        assert await error_messages(attached) == ["Call Flow 1 of 2 is attached to a Link"]
        assert (await iovox.call_flow.get_call_flow(call_flow="Late Line"))["callFlow"]
        await iovox.call_flow.delete_call_flows(call_flows="Late Line")
        deleted = iovox.call_flow.get_call_flow(call_flow="Late Line")
        assert await error_messages(deleted) == ["Call Flow Doesn't exist"]
        empty = iovox.call_flow.create_call_flow(call_flow={"@name": "Empty"})
        assert await error_messages(empty) == ["There are no Rules in this Template"]
    assert emulator.effects("CallFlow.createCallFlow") == 1
    assert emulator.effects("CallFlow.updateCallFlow") == 1
    assert emulator.effects("CallFlow.deleteCallFlows") == 1


async def test_flow_interface_create_get_update_delete(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        await iovox.flow.create_flow(
            call_flow={
                "@name": "Welcome",
                "@notes": "first",
                "play": {
                    "@id": "p1",
                    "@label": "Hi",
                    "soundFile": {"@soundLabel": "?", "@soundGroup": "?"},
                },
            }
        )
        flow = (await iovox.flow.get_flow(flow_name="Welcome", flow_type="Call"))["callFlow"]
        assert flow["play"][0]["soundFile"] == [{"@soundLabel": "?", "@soundGroup": "?"}]
        listed = await iovox.flow.get_flows(template_name="Welcome", req_fields=["tna", "tno"])
        assert rows(listed) == [{"template_name": "Welcome", "template_notes": "first"}]
        variables = await iovox.rules.get_variable_rules_of_template(template_name="Welcome")
        (rule,) = variables["rules"]["rule"]
        assert (rule["rule_id"], rule["sound_files"]["sound_file"]) == ("p1", ["?|?"])

        await iovox.flow.update_flow(
            call_flow={
                "@name": "Welcome",
                "@notes": "second",
                "play": {
                    "@id": "p1",
                    "@label": "Hello",
                    "soundFile": {"@soundLabel": "welcome", "@soundGroup": "default"},
                },
            }
        )
        flow = (await iovox.flow.get_flow(flow_name="Welcome", flow_type="Call"))["callFlow"]
        assert (flow["@notes"], flow["play"][0]["@label"]) == ("second", "Hello")
        variables = await iovox.rules.get_variable_rules_of_template(template_name="Welcome")
        assert variables["rules"]["rule"] == [], "no '?' left"

        await iovox.flow.delete_flows(flows=["Welcome"])
        gone = iovox.flow.get_flow(flow_name="Welcome", flow_type="Call")
        assert await error_messages(gone) == ["Flow Doesn't exist"]
        again = iovox.flow.delete_flows(flows="Welcome")
        assert await error_messages(again) == ["Flow 1 of 1 does not exist"]
    assert emulator.effects("Flow.createFlow") == 1
    assert emulator.effects("Flow.updateFlow") == 1
    assert emulator.effects("Flow.deleteFlows") == 1


async def test_sms_and_email_flows_keep_their_type(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        await iovox.flow.create_flow(
            sms_flow={
                "@name": "SMS Agent",
                "@notes": "fwd",
                "sendSms": {
                    "@id": "1",
                    "@label": "Send SMS",
                    "@from": "$_smsOrigin",
                    "@destinationPhoneNumber": "?",
                },
            }
        )
        await iovox.flow.create_flow(
            email_flow={
                "@name": "Mail Agent",
                "sendEmail": {"@id": "1", "@label": "Mail", "@destinationEmailAddress": "?"},
            }
        )
        sms = await iovox.flow.get_flow(flow_name="SMS Agent", flow_type="SMS")
        assert sms["smsFlow"]["@name"] == "SMS Agent"
        assert sms["smsFlow"]["sendSms"][0]["@from"] == "$_smsOrigin"
        mail = await iovox.flow.get_flow(flow_name="Mail Agent", flow_type="Email")
        assert mail["emailFlow"]["sendEmail"][0]["@destinationEmailAddress"] == "?"
        wrong_type = iovox.flow.get_flow(flow_name="SMS Agent", flow_type="Call")
        assert await error_messages(wrong_type) == ["Flow Doesn't exist"]
        not_a_call_flow = iovox.call_flow.get_call_flow(call_flow="SMS Agent")
        assert await error_messages(not_a_call_flow) == ["Call Flow Doesn't exist"]
        listed = await iovox.flow.get_flows(flow_type="SMS", req_fields=["tna"])
        assert [row["template_name"] for row in rows(listed)] == ["SMS Agent"]
        listed = await iovox.flow.get_flows(flow_type="Email", req_fields=["tna"])
        assert [row["template_name"] for row in rows(listed)] == ["Mail Agent"]
    assert emulator.effects("Flow.createFlow") == 2


async def test_link_values_follow_the_flow(emulator: RunningEmulator) -> None:
    contact = {"contact_id": "C0003", "phone_number": "442073334444"}
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(
            call_flow={
                "@name": "Two Calls",
                "call": [
                    {"@id": "c1", "@label": "First", "@destinationPhoneNumber": "?"},
                    {"@id": "c2", "@label": "Second", "@destinationPhoneNumber": "?"},
                ],
            }
        )
        await iovox.links.attach_rule_template_to_links(
            template_name="Two Calls",
            overwrite_existing=True,
            link_ids={"link_id": "L00001"},
            rules_variable={
                "rule": [
                    {"rule_id": "c1", "rule_type": "call", "rule_label": "First",
                     "contact": contact},
                    {"rule_id": "c2", "rule_type": "call", "rule_label": "Second",
                     "contact": {"contact_id": "C0004", "phone_number": "442075556666"}},
                ]
            },
        )  # fmt: skip
        # The link's values, given in the documented nested form, come back for the link.
        variables = await iovox.rules.get_variable_rules_of_template(
            template_name="Two Calls", link_id="L00001"
        )
        by_rule = {rule["rule_id"]: rule["contact"] for rule in variables["rules"]["rule"]}
        assert by_rule == {
            "c1": contact,
            "c2": {"contact_id": "C0004", "phone_number": "442075556666"},
        }
        # A rule removed from the flow drops its value on every link using it.
        await iovox.call_flow.update_call_flow(
            call_flow={
                "@name": "Two Calls",
                "call": {"@id": "c2", "@label": "Second", "@destinationPhoneNumber": "?"},
            }
        )
        (node,) = rows(await iovox.nodes.get_node_details(node_id="N0001", link_id="L00001"))
        (link,) = node["links"]["link"]
        assert [rule["rule_id"] for rule in link["rules"]["rule"]] == ["c2"]


async def test_rule_template_attach_and_remove_on_links(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(
            call_flow={
                "@name": "Night Line",
                "call": {"@id": "c1", "@label": "On call", "@destinationPhoneNumber": "?"},
            }
        )
        (number,) = await free_numbers(iovox, 1)
        await iovox.links.remove_rule_template_from_links(link_ids={"link_id": "L00001"})
        await iovox.links.attach_voxnumber_to_link(
            link={"link_id": "L00001", "method": "BY VOXNUMBER", "full_voxnumber": number}
        )
        assert (await number_row(iovox, number))["call_status"] == "NO RULES"

        await iovox.links.attach_rule_template_to_links(
            template_name="Night Line",
            overwrite_existing=True,
            link_ids={"link_id": ["L00001", "L00002"]},
            rules_variable={
                "rule": {
                    "rule_id": "c1",
                    "rule_type": "call",
                    "rule_label": "On call",
                    "contact": {"contact_id": "C0003", "phone_number": "442073334444"},
                }
            },
        )
        using = await iovox.links.get_links(req_fields=["lid", "rn"], order="lid_ASC")
        assert [row["link_id"] for row in rows(using) if row["rule_name"] == "Night Line"] == [
            "L00001",
            "L00002",
        ]
        assert (await number_row(iovox, number))["call_status"] == "ACTIVE"
        (node,) = rows(await iovox.nodes.get_node_details(node_id="N0001", link_id="L00001"))
        (link,) = node["links"]["link"]
        assert link["rule_template_name"] == "Night Line"
        assert link["rules"]["rule"] == [
            {
                "rule_id": "c1",
                "rule_type": "call",
                "rule_label": "On call",
                "contact": {"contact_id": "C0003", "phone_number": "442073334444"},
            }
        ]
        unknown = iovox.links.attach_rule_template_to_links(
            template_name="Nope", overwrite_existing=True, link_ids={"link_id": "L00001"}
        )
        assert await error_messages(unknown) == ["Template Name does not exist"]
        # overwrite_existing=FALSE refuses links that have a template, and changes nothing.
        (other,) = rows(await iovox.links.get_links(link_id="L00003", req_fields=["rn"]))
        assert other["rule_name"] not in (None, "Night Line")
        kept = iovox.links.attach_rule_template_to_links(
            template_name="Night Line",
            overwrite_existing=False,
            link_ids={"link_id": ["L00001", "L00003"]},
        )
        assert await error_messages(kept) == [
            "Link ID 1 of 2 already has a Rule Template",
            "Link ID 2 of 2 already has a Rule Template",
        ]
        (still,) = rows(await iovox.links.get_links(link_id="L00003", req_fields=["rn"]))
        assert still["rule_name"] == other["rule_name"]

        await iovox.links.remove_rule_template_from_links(link_ids={"link_id": ["L00002"]})
        (plain,) = rows(await iovox.links.get_links(link_id="L00002", req_fields=["rn"]))
        assert plain["rule_name"] is None
        attached = iovox.call_flow.delete_call_flows(call_flows="Night Line")
        assert await error_messages(attached) == ["Call Flow 1 of 1 is attached to a Link"]
        await iovox.call_flow.delete_call_flows(call_flows="Night Line", detach_from_links=True)
        (detached,) = rows(await iovox.links.get_links(link_id="L00001", req_fields=["rn"]))
        assert detached["rule_name"] is None
        assert (await number_row(iovox, number))["call_status"] == "NO RULES"
    assert emulator.effects("Links.attachRuleTemplateToLinks") == 1
    assert emulator.effects("Links.removeRuleTemplateFromLinks") == 2
    assert emulator.effects("CallFlow.deleteCallFlows") == 1


# -- 5. sound files ---------------------------------------------------------------------


async def test_sound_file_upload_get_update_delete(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    audio = b"ID3\x04\x00" + bytes(range(256)) * 20
    async with emulator.client() as iovox:
        await iovox.sound_files.create_sound_files(
            sound_file={
                "sound_label": "greeting",
                "sound_group": "shop",
                "sound_file": base64.b64encode(audio).decode(),
                "notes": "hello",
            }
        )
        (listed,) = rows(await iovox.sound_files.get_sound_files(sound_group="shop"))
        assert (listed["sound_label"], listed["content_length"], listed["notes"]) == (
            "greeting",
            len(audio),
            "hello",
        )
        data = await iovox.sound_files.get_sound_file_data(
            sound_label="greeting", sound_group="shop"
        )
        assert data == audio
        target = tmp_path / "greeting.mp3"
        size = await iovox.sound_files.get_sound_file_data_to_file(
            target, sound_label="greeting", sound_group="shop"
        )
        assert size == len(audio) and target.read_bytes() == audio
        bad = iovox.sound_files.create_sound_files(
            sound_file=[
                {
                    "sound_label": "greeting",
                    "sound_group": "shop",
                    "sound_file": base64.b64encode(audio).decode(),
                },
                {"sound_label": "beep", "sound_group": "system", "sound_file": "!!"},
            ]
        )
        assert await error_messages(bad) == [
            "Sound Label 1 of 2 already exists in Sound Group",
            "Sound Group 2 of 2 Forbidden",
            "Sound File 2 of 2 Empty",
        ]

        replacement = b"ID3\x03\x00" + b"\x7f" * 300
        await iovox.sound_files.update_sound_files(
            sound_file={
                "sound_label": "greeting",
                "sound_group": "shop",
                "new_sound_label": "welcome",
                "sound_file": base64.b64encode(replacement).decode(),
            }
        )
        renamed = await iovox.sound_files.get_sound_file_data(
            sound_label="welcome", sound_group="shop"
        )
        assert renamed == replacement
        old = iovox.sound_files.get_sound_file_data(sound_label="greeting", sound_group="shop")
        assert await error_messages(old) == ["Sound File does not exist"]

        await iovox.sound_files.delete_sound_files(sound_files=["welcome;shop"])
        assert rows(await iovox.sound_files.get_sound_files(sound_group="shop")) == []
        gone = iovox.sound_files.get_sound_file_data(sound_label="welcome", sound_group="shop")
        assert await error_messages(gone) == ["Sound File does not exist"]
        again = iovox.sound_files.delete_sound_files(sound_files="welcome;shop")
        assert await error_messages(again) == ["Sound File 1 of 1 Does not exist"]
    assert emulator.effects("SoundFiles.createSoundFiles") == 1
    assert emulator.effects("SoundFiles.updateSoundFiles") == 1
    assert emulator.effects("SoundFiles.deleteSoundFiles") == 1


# -- 6. call metrics and call data, XML and JSON -----------------------------------------


async def test_call_metrics_json_and_xml(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        calls = await iovox.calls.get_call_data(sdt=SDT, edt=EDT, limit=1, req_fields="id")
        total = int(calls["total_results"])
        assert total == emulator.config.calls
        as_json = await iovox.calls.get_call_metrics(sdt=SDT, edt=EDT, output="JSON")
        (summary,) = rows(as_json)  # one object in the JSON body, a one-item list here
        assert int(summary["total_calls"]) == total
        days = 123  # 2026-07-01 .. 2026-10-31
        assert float(summary["ave_calls_per_day"]) == pytest.approx(total / days, abs=0.01)
        seconds = int(summary["total_call_time_sec"])
        assert int(summary["ave_call_time_sec"]) == pytest.approx(seconds / total, abs=1)
        assert int(summary["total_talk_time_sec"]) <= seconds
        assert await iovox.calls.get_call_metrics(sdt=SDT, edt=EDT) == as_json

        grouped = await iovox.calls.get_call_metrics(
            sdt=SDT, edt=EDT, req_fields="tc", group_fields=["call_res"], output="JSON"
        )
        counts = {row["call_result"]: int(row["total_calls"]) for row in rows(grouped)}
        assert len(counts) >= 2 and sum(counts.values()) == total
        for result, count in counts.items():
            page = await iovox.calls.get_call_data(
                sdt=SDT, edt=EDT, call_res=result, limit=1, req_fields="id"
            )
            assert int(page["total_results"]) == count, result
        assert (
            await iovox.calls.get_call_metrics(
                sdt=SDT, edt=EDT, req_fields="tc", group_fields="call_res"
            )
            == grouped
        )
        too_many = iovox.calls.get_call_metrics(group_fields=["cdate", "lid", "nid"])
        assert await error_messages(too_many) == ["Group Fields Invalid"]


async def test_call_data_json_pages(emulator: RunningEmulator) -> None:
    fields: list[Any] = ["id", "cs", "lid", "call_res", "cat_id", "cat_lbl", "cat_v"]
    limit = 7
    async with emulator.client() as iovox:
        pages = [
            await iovox.calls.get_call_data(
                sdt=SDT, edt=EDT, page=number, limit=limit, req_fields=fields, output="JSON"
            )
            for number in (1, 2)
        ]
        total = emulator.config.calls
        expected_pages = math.ceil(total / limit)
        for number, page in enumerate(pages, start=1):
            assert (page["current_page"], page["total_pages"], page["total_results"]) == (
                number,
                expected_pages,
                total,
            )
            assert len(rows(page)) == limit
            for row in rows(page):
                assert isinstance(row["categories"]["category"], list)
                assert row["categories"]["category"], row["id"]
        ids = [row["id"] for page in pages for row in rows(page)]
        assert len(set(ids)) == 2 * limit, "the two pages do not overlap"
        starts = [row["call_start"] for page in pages for row in rows(page)]
        assert starts == sorted(starts, reverse=True), "cs_DESC across the page boundary"
        both = await iovox.calls.get_call_data(
            sdt=SDT, edt=EDT, page=1, limit=2 * limit, req_fields=fields
        )
        assert [row["id"] for row in rows(both)] == ids
        assert rows(both) == [row for page in pages for row in rows(page)], "XML == JSON"
        # Every field, empty ones included (<detail/> is None from XML and from JSON).
        as_xml = await iovox.calls.get_call_data(sdt=SDT, edt=EDT, limit=50)
        as_json = await iovox.calls.get_call_data(sdt=SDT, edt=EDT, limit=50, output="JSON")
        assert any(value is None for row in rows(as_xml) for value in row.values())
        assert as_json == as_xml
        last = await iovox.calls.get_call_data(
            sdt=SDT, edt=EDT, page=expected_pages, limit=limit, req_fields="id", output="JSON"
        )
        assert len(rows(last)) == total - (expected_pages - 1) * limit
        beyond = await iovox.calls.get_call_data(
            sdt=SDT, edt=EDT, page=expected_pages + 1, limit=limit, output="JSON"
        )
        assert (beyond["current_page"], beyond["total_results"], rows(beyond)) == (
            expected_pages + 1,
            total,
            [],
        )


async def test_call_data_json_single_elements_are_lists(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        await iovox.nodes.create_node_full(
            node={
                "node_id": "ONE",
                "node_name": "One category",
                "node_type": "Shop",
                "links": {
                    "link": {
                        "link_id": "ONE-WEB",
                        "link_name": "Website",
                        "link_type": "Website",
                        "rule_template_name": "Call Sales",
                        "categories": {"category": {"category_id": "203"}},
                    }
                },
            }
        )
        await iovox.calling.initiate_call(
            link_id="ONE-WEB", call_variables={"call_destination": "447700900555"}
        )
        page = await iovox.calls.get_call_data(
            ctype="API",
            req_fields=["id", "lid", "cat_id", "cat_lbl", "cat_v"],
            output="JSON",
        )
        (row,) = rows(page)
        assert row["link_id"] == "ONE-WEB"
        assert row["categories"]["category"] == [
            {"category_id": "203", "label": "Channel", "value": "Radio"}
        ]
        assert (
            await iovox.calls.get_call_data(
                ctype="API", req_fields=["id", "lid", "cat_id", "cat_lbl", "cat_v"]
            )
            == page
        )
    assert emulator.effects("Calling.initiateCall") == 1


async def test_create_node_full_numbers_bad_categories_within_the_link(
    emulator: RunningEmulator,
) -> None:
    async with emulator.client() as iovox:
        refused = iovox.nodes.create_node_full(
            node={
                "node_id": "CAT-1",
                "node_name": "Categories",
                "node_type": "Shop",
                "links": {
                    "link": {
                        "link_id": "CAT-L1",
                        "link_name": "Web",
                        "link_type": "Web",
                        "categories": {
                            "category": [{"category_id": "98765"}, {"category_id": "98766"}]
                        },
                    }
                },
            }
        )
        assert await error_messages(refused) == [
            "Category ID 1 of 2 does not exist",
            "Category ID 2 of 2 does not exist",
        ]
    assert emulator.effects("Nodes.createNodeFull") == 0
