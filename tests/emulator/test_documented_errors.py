"""Every error the spec documents, triggered through the emulator over loopback HTTP.

The expected texts come from the runtime catalog (``Method.errors``), never from the
emulator: each case fills a documented template's ``x``/``y``/``z`` placeholders and
checks that the error body carries exactly that text with the documented status.
Protocol errors the client cannot produce by design (a missing or wrong ``v``, an
empty or malformed body) go through a raw HTTP client on the same emulator; the
rest go through :meth:`AsyncIovox.request` and are read from ``err.errors``.
``Internal Server Error`` comes from the emulator's scripted faults. Errors that no
request can provoke are listed in ``UNTRIGGERABLE`` with the reason.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio

from iovox_async import APIError, AsyncIovox, IovoxError
from iovox_async._catalog import METHODS
from iovox_async._spec import ErrorDoc, Method
from iovox_async.emulator.seed import CLIS, IDLE_SUB_ACCOUNT, SUB_ACCOUNT
from iovox_async.emulator.state import State
from iovox_async.testing import RunningEmulator

from .helpers import call, errors

Build = Callable[[State], dict[str, Any]]


@dataclass(frozen=True)
class Trigger:
    """A request that provokes one documented error; ``fills`` replace x/y/z in order."""

    params: dict[str, Any] | Build | None = None
    payload: dict[str, Any] | Build | None = None
    fills: tuple[object, ...] | Callable[[State], tuple[object, ...]] = ()
    raw: str | None = None
    """A raw body (sent with httpx) instead of a payload."""
    verb: str | None = None
    """A verb other than the method's own."""
    version: str | None = "3"
    fault: str | None = None
    """A scripted fault kind (``"500"``) armed for the one call."""
    settings: dict[str, Any] = field(default_factory=dict)


def value(spec: dict[str, Any] | Build | None, state: State) -> dict[str, Any] | None:
    return spec(state) if callable(spec) else spec


AUDIO = base64.b64encode(b"ID3\x04\x00" + bytes(256)).decode()
FLOW = '<callFlow name="{name}"><play id="1" label="Hello"><soundFile>welcome</soundFile></play></callFlow>'
FRAME = {"time_frames": {"time_frame": [{"days": {"day": ["MON"]}}]}}


def free(state: State, count: int = 1) -> list[str]:
    return [vox.number for vox in state.free_numbers()[:count]]


def attached(state: State) -> str:
    return next(vox.number for vox in state.voxnumbers.values() if vox.link_id)


def used_contact(state: State) -> str:
    return str(state.links["L00001"].rules_variable[0]["contact_id"])


def flow_of(state: State) -> str:
    return str(state.links["L00001"].rule_template)


# -- the method-specific errors -------------------------------------------------------

T = Trigger
TRIGGERS: dict[str, dict[str, Trigger]] = {
    "CallFlow.getCallFlows": {
        "Template Type Invalid": T({"template_type": "NOPE"}),
        "Advanced Invalid": T({"advanced": "NOPE"}),
    },
    "CallFlow.getCallFlow": {"Call Flow Doesn't exist": T({"call_flow": "No Such Flow"})},
    "CallFlow.createCallFlow": {
        "Request Empty": T(raw="<request/>"),
        "There are no Rules in this Template": T(raw='<request><callFlow name="Bare"/></request>'),
        "CallFlow Name already exists": T(
            raw="<request>" + FLOW.format(name="Call Sales") + "</request>"
        ),
        "CallFlow Name Empty": T(raw="<request>" + FLOW.format(name="") + "</request>"),
        "CallFlow Name too long": T(raw="<request>" + FLOW.format(name="n" * 200) + "</request>"),
        "Rule Label Empty": T(
            raw='<request><callFlow name="A"><play id="1" label=""><soundFile>welcome</soundFile></play></callFlow></request>'
        ),
        "Rule ID Empty": T(
            raw='<request><callFlow name="A"><play id="" label="x"><soundFile>welcome</soundFile></play></callFlow></request>'
        ),
        "Message empty": T(
            raw='<request><callFlow name="A"><sendSms id="1" label="s" from="IOVOX" message="" destinationPhoneNumber="447700900123"/></callFlow></request>'
        ),
        "destinationPhoneNumber Empty": T(
            raw='<request><callFlow name="A"><call id="1" label="c" destinationPhoneNumber=""/></callFlow></request>'
        ),
        "destinationContactId Empty": T(
            raw='<request><callFlow name="A"><call id="1" label="c" destinationContactId=""/></callFlow></request>'
        ),
    },
    "CallFlow.updateCallFlow": {"Request Empty": T(raw="<request/>")},
    "CallFlow.deleteCallFlows": {
        "call_flows Empty": T({"call_flows": ""}),
        "Call Flow x of y does not exist": T({"call_flows": "Nope"}, fills=(1, 1)),
        "Call Flow x of y is attached to a Link": T(
            lambda s: {"call_flows": flow_of(s)}, fills=(1, 1)
        ),
    },
    "Calling.initiateCall": {"Request Empty": T(raw="<request/>")},
    "Calls.transcribeCallRecording": {
        "The specified call does not have a recording": T(
            payload=lambda s: {"calls": {"call": [{"id": no_recording(s)}]}}
        ),
        "The specified Call ID does not exist": T(
            payload={"calls": {"call": [{"id": "999999999"}]}}
        ),
        "Call ID not an integer": T(payload={"calls": {"call": [{"id": "abc"}]}}),
        "Call ID Empty": T(raw="<request><calls><call><id></id></call></calls></request>"),
    },
    "Categories.getCategoryId": {
        "Label Empty": T({"value": "North"}),
        "Value Empty": T({"label": "Region"}),
    },
    "Categories.getCategories": {
        "Category ID does not exist": T({"parent_category_id": "9999"}),
        "Child Count not allow to be alone in the Required Fields": T({"req_fields": "chc"}),
    },
    "Categories.createCategoryConfigurations": {
        "Request Empty": T(raw="<request/>"),
        "Category ID x of y Empty": T(payload={"category": [{"label": "A"}]}, fills=(1, 1)),
        "Category ID x of y exists": T(
            payload={"category": [{"category_id": "100", "label": "A"}]}, fills=(1, 1)
        ),
        "Label x of y Empty": T(payload={"category": [{"category_id": "900"}]}, fills=(1, 1)),
        "Label x of y exist": T(
            payload={"category": [{"category_id": "900", "label": "Region"}]}, fills=(1, 1)
        ),
        "Type x of y invalid": T(
            payload={"category": [{"category_id": "900", "label": "A", "type": "Nope"}]},
            fills=(1, 1),
        ),
        "Color x of y invalid": T(
            payload={"category": [{"category_id": "900", "label": "A", "colour": "nope"}]},
            fills=(1, 1),
        ),
    },
    "Categories.createCategories": {
        "Request Empty": T(raw="<request/>"),
        "Category ID x of y Empty": T(
            payload={"category": [{"parent_category_id": "100", "label": "Region", "value": "V"}]},
            fills=(1, 1),
        ),
        "Category ID x of y already exist": T(
            payload={
                "category": [
                    {
                        "parent_category_id": "100",
                        "category_id": "101",
                        "label": "Region",
                        "value": "V",
                    }
                ]
            },
            fills=(1, 1),
        ),
        "Parent ID x of y does not exist": T(
            payload={
                "category": [
                    {
                        "parent_category_id": "9999",
                        "category_id": "199",
                        "label": "Region",
                        "value": "V",
                    }
                ]
            },
            fills=(1, 1),
        ),
        "Label x of y Empty": T(
            payload={
                "category": [{"parent_category_id": "100", "category_id": "199", "value": "V"}]
            },
            fills=(1, 1),
        ),
        "Label x of y does not exist": T(
            payload={"category": [{"category_id": "199", "label": "Nope", "value": "V"}]},
            fills=(1, 1),
        ),
        "Value x of y Empty": T(
            payload={
                "category": [{"parent_category_id": "100", "category_id": "199", "label": "Region"}]
            },
            fills=(1, 1),
        ),
    },
    "Categories.deleteCategoryConfigurations": {
        "Category ID x of y does not exist": T({"categories_ids": "9999"}, fills=(1, 1)),
        "Category ID x of y is empty": T({"categories_ids": "100,"}, fills=(2, 2)),
    },
    "Categories.deleteCategories": {
        "Category ID x of y does not exist": T({"categories": "Region;9999"}, fills=(1, 1)),
        "Category ID x of y Empty": T({"categories": "Region;101,"}, fills=(2, 2)),
        "Category IDs Empty": T({"categories": ""}),
    },
    "Clis.createClis": {
        "Request Empty": T(raw="<request/>"),
        "Cli x of y Empty": T(
            raw="<request><cli>447700900901</cli><cli></cli></request>", fills=(2, 2)
        ),
        "Cli x of y not an integer": T(payload={"cli": ["447700900901", "abc"]}, fills=(2, 2)),
        "Cli x of y already exists": T(payload={"cli": [CLIS[1]]}, fills=(1, 1)),
    },
    "Clis.deleteClis": {
        "Clis Empty": T({"clis": ""}),
        "Cli x of y Empty": T({"clis": f"{CLIS[1]},"}, fills=(2, 2)),
        "Cli x of y does not exist": T({"clis": "447700900999"}, fills=(1, 1)),
        "Cli x of y in use": T({"clis": CLIS[0]}, fills=(1, 1)),
        "Cli x of y not an integer": T({"clis": "abc"}, fills=(1, 1)),
    },
    "Contacts.getContactDetails": {"Contact ID does not exist": T({"contact_id": "NOPE"})},
    "Contacts.createContacts": {"Request Empty": T(raw="<request/>")},
    "Contacts.updateContacts": {"Request Empty": T(raw="<request/>")},
    "Contacts.deleteContacts": {
        "Remove If User Invalid": T({"contact_ids": "C0001", "rm_if_user": "MAYBE"}),
        "Contact IDs Empty": T({"contact_ids": ""}),
        "Contact ID x of y does not exist": T({"contact_ids": "NOPE"}, fills=(1, 1)),
        "Contact x of y is used in Rules or Rule Templates": T(
            lambda s: {"contact_ids": used_contact(s)}, fills=(1, 1)
        ),
    },
    "Flow.createFlow": {
        "Request Empty": T(raw="<request/>"),
        "There are no Rules in this Template": T(raw='<request><callFlow name="Bare"/></request>'),
        "CallFlow Name already exists": T(
            raw="<request>" + FLOW.format(name="Call Sales") + "</request>"
        ),
    },
    "Flow.getFlow": {"Flow Doesn't exist": T({"flow_name": "Nope", "flow_type": "Call"})},
    "Flow.getFlows": {
        "Template Type Invalid": T({"template_type": "NOPE"}),
        "Advanced Invalid": T({"advanced": "NOPE"}),
    },
    "Flow.deleteFlows": {
        "Flows Empty": T({"flows": ""}),
        "Flow x of y does not exist": T({"flows": "Nope"}, fills=(1, 1)),
        "Flow x of y is attached to a Link": T(lambda s: {"flows": flow_of(s)}, fills=(1, 1)),
    },
    "Links.getLinks": {"Node ID does not exist": T({"node_id": "NOPE"})},
    "Links.createLinks": {
        "Request Empty": T(raw="<request/>"),
        "Link ID x of y Empty": T(
            payload={"link": [{"node_id": "N0001", "link_name": "W", "link_type": "Web"}]},
            fills=(1, 1),
        ),
        "Link ID x of y already exists": T(
            payload={
                "link": [
                    {"node_id": "N0001", "link_id": "L00002", "link_name": "W", "link_type": "Web"}
                ]
            },
            fills=(1, 1),
        ),
        "Link Name x is already attached to Node y": T(
            payload=lambda s: {
                "link": [
                    {
                        "node_id": "N0001",
                        "link_id": "NEW",
                        "link_name": s.links["L00001"].link_name,
                        "link_type": "W",
                    }
                ]
            },
            fills=lambda s: (s.links["L00001"].link_name, "N0001"),
        ),
    },
    "Links.createLinksFull": {"Request Empty": T(raw="<request/>")},
    "Links.updateLinks": {
        "Request Empty": T(raw="<request/>"),
        "Link ID x of y Empty": T(
            raw="<request><link><link_id></link_id><link_name>A</link_name></link></request>",
            fills=(1, 1),
        ),
        "Link ID x of y does not exist": T(payload={"link": [{"link_id": "NOPE"}]}, fills=(1, 1)),
        "New Link ID x of y already exist": T(
            payload={"link": [{"link_id": "L00001", "new_link_id": "L00002"}]}, fills=(1, 1)
        ),
        "Link Name x of y Empty": T(
            raw="<request><link><link_id>L00001</link_id><link_name></link_name></link></request>",
            fills=(1, 1),
        ),
    },
    "Links.deleteLinks": {
        "Link ID x of y does not exist": T({"link_ids": "NOPE"}, fills=(1, 1)),
        "Link ID x of y Empty": T({"link_ids": "L00001,"}, fills=(2, 2)),
        "Link IDs Empty": T({"link_ids": ""}),
    },
    "Links.attachVoxnumberToLink": {
        "Request Empty": T(raw="<request/>"),
        "There is no VoxNumber available in your account for the Postcode x or the fallback area": T(
            payload={
                "link": [
                    {
                        "link_id": "L00001",
                        "method": "BY POSTCODE",
                        "voxnumber_country": "UNITED KINGDOM",
                        "postcode": "ZZ99",
                    }
                ]
            },
            fills=("ZZ99",),
        ),
    },
    "Links.removeVoxnumberFromLink": {
        "Request Empty": T(raw="<request/>"),
        "Link ID X of Y Empty": T(
            raw="<request><link_id>L00001</link_id><link_id></link_id></request>", fills=(2, 2)
        ),
        "Link ID x of y does not exist": T(payload={"link_id": ["NOPE"]}, fills=(1, 1)),
        "Link ID x of y does not have a VoxNumber": T(
            payload=lambda s: {"link_id": [bare_link(s)]}, fills=(1, 1)
        ),
    },
    "Links.attachRuleTemplateToLinks": {"Request Empty": T(raw="<request/>")},
    "Links.removeRuleTemplateFromLinks": {
        "Link IDs Empty": T(raw="<request/>"),
        "Link ID x of y Empty": T(
            raw="<request><link_ids><link_id>L00001</link_id><link_id></link_id></link_ids></request>",
            fills=(2, 2),
        ),
        "Link ID x of y does not exist": T(
            payload={"link_ids": {"link_id": ["NOPE"]}}, fills=(1, 1)
        ),
    },
    "Links.attachSMSTemplateToLinks": {"Request Empty": T(raw="<request/>")},
    "Links.removeSMSTemplateFromLinks": {
        "Link IDs Empty": T(raw="<request/>"),
        "Link ID x of y Empty": T(
            raw="<request><link_ids><link_id>L00001</link_id><link_id></link_id></link_ids></request>",
            fills=(2, 2),
        ),
        "Link ID x of y does not exist": T(
            payload={"link_ids": {"link_id": ["NOPE"]}}, fills=(1, 1)
        ),
        "Duplicate Link ID Received": T(payload={"link_ids": {"link_id": ["L00001", "L00001"]}}),
    },
    "Links.attachCategoryToLink": {"Request Empty": T(raw="<request/>")},
    "Links.removeCategoryFromLink": {
        "Request Empty": T(raw="<request/>"),
        "Link ID x of y Empty": T(
            raw="<request><link><link_id></link_id><category_id>101</category_id><label>Region</label></link></request>",
            fills=(1, 1),
        ),
        "Link ID x of y does not exist": T(
            payload={"link": [{"link_id": "NOPE", "category_id": "101", "label": "Region"}]},
            fills=(1, 1),
        ),
        "Category ID x of y Empty": T(
            raw="<request><link><link_id>L00001</link_id><category_id></category_id><label>Region</label></link></request>",
            fills=(1, 1),
        ),
    },
    "Nodes.getNodeDetails": {"Node ID Doesn't exist": T({"node_id": "NOPE"})},
    "Nodes.createNodes": {
        "Request Empty": T(raw="<request/>"),
        "Node ID x of y Empty": T(
            payload={"node": [{"node_name": "A", "node_type": "Shop"}]}, fills=(1, 1)
        ),
        "Node ID x of y already exists": T(
            payload={"node": [{"node_id": "N0001", "node_name": "A", "node_type": "Shop"}]},
            fills=(1, 1),
        ),
        "Node Name x of y Empty": T(
            payload={"node": [{"node_id": "NEW", "node_type": "Shop"}]}, fills=(1, 1)
        ),
        "Node Type x of y Empty": T(
            payload={"node": [{"node_id": "NEW", "node_name": "A"}]}, fills=(1, 1)
        ),
        "Node Date x of y Invalid": T(
            payload={
                "node": [
                    {"node_id": "NEW", "node_name": "A", "node_type": "Shop", "node_date": "soon"}
                ]
            },
            fills=(1, 1),
        ),
        "Duplicate Node ID Received": T(
            payload={"node": [{"node_id": "NEW", "node_name": "A", "node_type": "S"}] * 2}
        ),
    },
    "Nodes.createNodeFull": {
        "Request Empty": T(raw="<request/>"),
        "There is no VoxNumber available in your account for the Postcode x or the fallback area": T(
            payload={
                "node": {
                    "node_id": "NEW",
                    "node_name": "A",
                    "node_type": "Shop",
                    "links": {
                        "link": [
                            {
                                "link_id": "NEW-L",
                                "link_name": "W",
                                "link_type": "Web",
                                "assign_voxnumber": {
                                    "method": "BY POSTCODE",
                                    "voxnumber_country": "UNITED KINGDOM",
                                    "postcode": "ZZ99",
                                },
                            }
                        ]
                    },
                }
            },
            fills=("ZZ99",),
        ),
    },
    "Nodes.updateNodes": {
        "Request Empty": T(raw="<request/>"),
        "Node ID x of y Empty": T(
            raw="<request><node><node_id></node_id><node_name>A</node_name></node></request>",
            fills=(1, 1),
        ),
        "Node ID x of y does not exist": T(payload={"node": [{"node_id": "NOPE"}]}, fills=(1, 1)),
        "New Node ID x of y already exist": T(
            payload={"node": [{"node_id": "N0001", "new_node_id": "N0002"}]}, fills=(1, 1)
        ),
        "Node Name x of y Empty": T(
            raw="<request><node><node_id>N0001</node_id><node_name></node_name></node></request>",
            fills=(1, 1),
        ),
        "Node Type x of y Empty": T(
            raw="<request><node><node_id>N0001</node_id><node_type></node_type></node></request>",
            fills=(1, 1),
        ),
    },
    "Nodes.deleteNodes": {
        "Node ID x of y does not exist": T({"node_ids": "NOPE"}, fills=(1, 1)),
        "Node ID x of y Empty": T({"node_ids": "N0001,"}, fills=(2, 2)),
        "Node IDs Empty": T({"node_ids": ""}),
    },
    "Purchase.purchaseVoxNumbers": {
        "Request Empty": T(raw="<request/>"),
        "Basket Item x of y is not correct.": T(
            payload={
                "items": {
                    "item": [
                        {
                            "country_code": "44",
                            "area_code": "999",
                            "number_type": "GEOGRAPHIC",
                            "quantity": "1",
                        }
                    ]
                }
            },
            fills=(1, 1),
        ),
    },
    "Rules.getRuleTemplates": {
        "Template Type Invalid": T({"template_type": "NOPE"}),
        "Advanced Invalid": T({"advanced": "NOPE"}),
    },
    "Rules.getVariableRulesOfTemplate": {
        "Template Name does not exist": T({"template_name": "Nope"}),
        "Link ID Doesn't exist": T(lambda s: {"template_name": flow_of(s), "link_id": "NOPE"}),
    },
    "Rules.createTimeTemplates": {"Request Empty": T(raw="<request/>")},
    "Rules.updateTimeTemplates": {"Request Empty": T(raw="<request/>")},
    "Rules.deleteTimeTemplates": {
        "force Invalid": T({"time_template_labels": "Christmas", "force": "MAYBE"}),
        "time_template_labels Empty": T({"time_template_labels": ""}),
        "time_template_label x of y does not exist": T(
            {"time_template_labels": "Christmas,Nope"}, fills=(2, 2)
        ),
        "This time template is used by a blocking rule you can force the deletion by using force as TRUE. Blocking rule numbers are X": T(
            {"time_template_labels": "Christmas"}, fills=("447429651522",)
        ),
    },
    "Rules.getBlockedNumbers": {
        "Number does not exist": T({"number": "4400000"}),
        "In Or Out Invalid": T({"in_or_out": "UP"}),
        "Operator Invalid": T({"operator": "LIKE"}),
    },
    "Rules.createBlockedNumbers": {"Request Empty": T(raw="<request/>")},
    "Rules.updateBlockedNumbers": {"Request Empty": T(raw="<request/>")},
    "Rules.deleteBlockedNumbers": {
        "z of x of y Empty": T(
            {"blocked_numbers": "33;OUT;STARTSWITH,447429651520;;EQUALS"}, fills=("In Or Out", 2, 2)
        ),
        "Blocked Numbers Empty": T({"blocked_numbers": ""}),
        "Blocked Number x of y does not exist": T(
            {"blocked_numbers": "4400000;IN;EQUALS"}, fills=(1, 1)
        ),
        "Combination of Number, In Or Out and Operator in Blocked Number x of y does not exist.": T(
            {"blocked_numbers": "33;IN;STARTSWITH"}, fills=(1, 1)
        ),
    },
    "SoundFiles.createSoundFiles": {
        "Request Empty": T(raw="<request/>"),
        "Sound Label x of y Empty": T(
            payload={"sound_file": [{"sound_file": AUDIO}]}, fills=(1, 1)
        ),
        "Sound Label x of y already exists in Sound Group": T(
            payload={
                "sound_file": [
                    {"sound_label": "welcome", "sound_group": "default", "sound_file": AUDIO}
                ]
            },
            fills=(1, 1),
        ),
        "Sound Group x of y Forbidden": T(
            payload={
                "sound_file": [{"sound_label": "a", "sound_group": "system", "sound_file": AUDIO}]
            },
            fills=(1, 1),
        ),
        "Sound File x of y Empty": T(
            payload={"sound_file": [{"sound_label": "a", "sound_file": "!!"}]}, fills=(1, 1)
        ),
        "Sound File x of y Exceeds maximum allowed filesize": T(
            payload={"sound_file": [{"sound_label": "a", "sound_file": "A" * (14 * 1024 * 1024)}]},
            fills=(1, 1),
        ),
        "Duplicate Sound File Received": T(
            payload={
                "sound_file": [{"sound_label": "a", "sound_group": "g", "sound_file": AUDIO}] * 2
            }
        ),
    },
    "SoundFiles.updateSoundFiles": {
        "Request Empty": T(raw="<request/>"),
        "Sound Label x of y Empty": T(
            raw="<request><sound_file><sound_label></sound_label></sound_file></request>",
            fills=(1, 1),
        ),
        "Sound File x of y Does not exist": T(
            payload={"sound_file": [{"sound_label": "nope"}]}, fills=(1, 1)
        ),
        "Sound Label x of y already exists in Sound Group": T(
            payload={
                "sound_file": [
                    {
                        "sound_label": "welcome",
                        "sound_group": "default",
                        "new_sound_label": "hold_music",
                    }
                ]
            },
            fills=(1, 1),
        ),
        "Sound Group x of y Forbidden": T(
            payload={
                "sound_file": [
                    {
                        "sound_label": "welcome",
                        "sound_group": "default",
                        "new_sound_group": "system",
                    }
                ]
            },
            fills=(1, 1),
        ),
        "Sound File x of y Empty": T(
            payload={
                "sound_file": [
                    {"sound_label": "welcome", "sound_group": "default", "sound_file": "!!"}
                ]
            },
            fills=(1, 1),
        ),
        "Sound File x of y Exceeds maximum allowed filesize": T(
            payload={
                "sound_file": [
                    {
                        "sound_label": "welcome",
                        "sound_group": "default",
                        "sound_file": "A" * (14 * 1024 * 1024),
                    }
                ]
            },
            fills=(1, 1),
        ),
        "Duplicate Sound File Received": T(
            payload={"sound_file": [{"sound_label": "welcome", "sound_group": "default"}] * 2}
        ),
    },
    "SoundFiles.deleteSoundFiles": {
        "Sound Files Empty": T({"sound_files": ""}),
        "Sound Label x of y Empty": T({"sound_files": "welcome;default,;default"}, fills=(2, 2)),
        "Sound File x of y Does not exist": T({"sound_files": "nope;default"}, fills=(1, 1)),
    },
    "SoundFiles.uploadSoundFileData": {
        "Request Empty": T({"sound_label": "welcome"}, raw="<request/>"),
        "Sound Label Empty": T(payload={"sound_file": AUDIO}),
        "Sound File Empty": T({"sound_label": "welcome"}, payload={"sound_file": "!!"}),
        "Sound File does not exist": T({"sound_label": "nope"}, payload={"sound_file": AUDIO}),
    },
    "SoundFiles.deleteSoundFile": {
        "Sound Label Empty": T({"sound_group": "default"}),
        "Sound File does not exist": T({"sound_label": "nope"}),
    },
    "Subscriptions.updateSubscriptionDetails": {
        "Request Empty": T(raw="<request/>"),
        "Billing Length must be an integer": T(
            payload={
                **(
                    SUBSCRIPTION := {
                        "recurring_credit": "500",
                        "voxnumber_quantity": "5",
                        "billing_length": "28",
                        "billing_length_unit": "D",
                    }
                ),
                "billing_length": "four weeks",
            }
        ),
        "Billing Length Unit should be one of the following: D/W/M": T(
            payload={**SUBSCRIPTION, "billing_length_unit": "Y"}
        ),
    },
    "Subscriptions.cancelSubscription": {
        "The provided sub_account_name is not valid": T(payload={"sub_account_name": "nobody"}),
        "There are no active subscriptions in this account": T(
            payload={"sub_account_name": IDLE_SUB_ACCOUNT}
        ),
    },
    "Users.setAccountCheckCredit": {
        "Sub Account Name must be set": T(payload={"check_credit": "TRUE"}),
        "Check Credit must be set to TRUE or FALSE": T(
            payload={"sub_account_name": SUB_ACCOUNT, "check_credit": "YES"}
        ),
        "The provided subAccountName is not valid": T(
            payload={"sub_account_name": "nobody", "check_credit": "TRUE"}
        ),
        "The account must have active subscriptions to set credit check. Create a subscription for this account first.": T(
            payload={"sub_account_name": IDLE_SUB_ACCOUNT, "check_credit": "TRUE"}
        ),
    },
    "Voxnumbers.setCallStatus": {
        "VoxNumber x of y does not exist": T(
            payload={"call_status": "ON", "voxnumbers": {"voxnumber": ["447000000000"]}},
            fills=(1, 1),
        ),
        "VoxNumber x of y is not attached to a Link": T(
            payload=lambda s: {"call_status": "ON", "voxnumbers": {"voxnumber": free(s)}},
            fills=(1, 1),
        ),
        "Call Status Invalid": T(
            payload=lambda s: {"call_status": "MAYBE", "voxnumbers": {"voxnumber": [attached(s)]}}
        ),
        "VoxNumbers Empty": T(raw="<request><call_status>ON</call_status></request>"),
    },
    "Voxnumbers.deleteVoxnumbersFromAccount": {
        "rm_if_in_use Invalid": T(
            lambda s: {"full_voxnumbers": free(s)[0], "rm_if_in_use": "MAYBE"}
        ),
        "VoxNumbers Empty": T({"full_voxnumbers": ""}),
        "VoxNumber x of y does not exists": T({"full_voxnumbers": "447000000000"}, fills=(1, 1)),
        "VoxNumber x of y Empty": T(lambda s: {"full_voxnumbers": free(s)[0] + ","}, fills=(2, 2)),
        "VoxNumber x of y not an integer": T({"full_voxnumbers": "abc"}, fills=(1, 1)),
        "VoxNumber x of y is attached to a Link": T(
            lambda s: {"full_voxnumbers": attached(s)}, fills=(1, 1)
        ),
        "You can only remove a maximum of 100 VoxNumbers in a single request": T(
            {"full_voxnumbers": ",".join(str(447000000000 + n) for n in range(101))}
        ),
    },
    "Voxnumbers.transferVoxnumbers": {
        "Origin Partner Name is empty": T(
            payload=lambda s: {
                "destination_partner_name": "emulator-partner-2",
                "voxnumbers": {"voxnumber": free(s)},
            }
        ),
        "Origin Partner Name does not exist": T(
            payload=lambda s: {
                "origin_partner_name": "nobody",
                "destination_partner_name": "emulator-partner-2",
                "voxnumbers": {"voxnumber": free(s)},
            }
        ),
        "Destination Partner Name is empty": T(
            payload=lambda s: {
                "origin_partner_name": "emulator-partner",
                "voxnumbers": {"voxnumber": free(s)},
            }
        ),
        "Destination Partner Name does not exist": T(
            payload=lambda s: {
                "origin_partner_name": "emulator-partner",
                "destination_partner_name": "nobody",
                "voxnumbers": {"voxnumber": free(s)},
            }
        ),
        "voxnumbers is empty": T(
            payload={
                "origin_partner_name": "emulator-partner",
                "destination_partner_name": "emulator-partner-2",
            }
        ),
        "voxnumber x of y is empty": T(
            raw="<request><origin_partner_name>emulator-partner</origin_partner_name><destination_partner_name>emulator-partner-2</destination_partner_name><voxnumbers><voxnumber>447000000000</voxnumber><voxnumber></voxnumber></voxnumbers></request>",
            fills=(2, 2),
        ),
        "voxnumber x of y does not exist": T(
            payload={
                "origin_partner_name": "emulator-partner",
                "destination_partner_name": "emulator-partner-2",
                "voxnumbers": {"voxnumber": ["447000000000"]},
            },
            fills=(1, 1),
        ),
        "voxnumber x of y is not in a international format": T(
            payload={
                "origin_partner_name": "emulator-partner",
                "destination_partner_name": "emulator-partner-2",
                "voxnumbers": {"voxnumber": ["07700900123"]},
            },
            fills=(1, 1),
        ),
        "voxnumber x of y is not available": T(
            payload=lambda s: {
                "origin_partner_name": "emulator-partner",
                "destination_partner_name": "emulator-partner-2",
                "voxnumbers": {"voxnumber": [attached(s)]},
            },
            fills=(1, 1),
        ),
    },
}


def no_recording(state: State) -> str:
    from iovox_async.emulator.calldata import INDEX

    return next(row[0] for row in state.call_store.rows if row[INDEX["has_recording"]] == "0")


def bare_link(state: State) -> str:
    link = state.links["L00001"]
    state.detach_number(link.voxnumber or "")
    return link.link_id


UNTRIGGERABLE: dict[str, dict[str, str]] = {
    "Calls.transcribeCallRecording": {
        "Request Method must be GET. x attempted": "the docs page's copy of the GET text; the"
        " method is a POST, so a wrong verb is answered 'Request Method must be POST. GET"
        " attempted'",
    },
    "Subscriptions.cancelSubscription": {
        "Request Empty": "every element is optional and an empty <request/> means the API account"
        " itself (the docs' default), so no well-formed body is 'empty'",
    },
    "Categories.createCategories": {
        "Parent ID x of y Empty": "parent_category_id is optional (a value's configuration may be"
        " named by label instead) and an empty element reads as absent",
    },
    "Links.deleteLinks": {
        "Link ID x of y not an integer": "link ids are strings (the docs' examples: link123,"
        " test/foo), so no link id is refused for not being an integer",
    },
    "Contacts.deleteContacts": {
        "Contact x of y has a user account": "the emulator models no portal users, so no contact"
        " has a user account",
    },
}
"""Documented errors no request to the emulator can provoke, with the reason."""

SETUP: dict[str, Callable[[State], Any]] = {
    "Links.removeVoxnumberFromLink": bare_link,
}
"""Cases whose trigger needs the seed changed first (the emulator is reset after them)."""


# -- the protocol errors every method shares --------------------------------------------

GENERIC_REQUIRED_FIELDS = re.compile(r"^Required Fields Invalid: .+$")
GENERIC_LIMIT = re.compile(r"^Limit must be between 1 and \d+$")


def generic(method: Method, error: ErrorDoc) -> Trigger | None:
    """The trigger of an error the catalog's generic rules explain, if it is one."""
    text = error.message
    wrong = "POST" if method.http == "GET" else "GET"
    body = method.http in ("POST", "PUT")
    fields = method.param("req_fields")
    first = fields.values[0] if fields is not None and fields.values else "id"
    table: dict[str, Trigger] = {
        "API Version Empty": T(version="", raw="" if not body else None),
        "API Version Invalid": T(version="2", raw="" if not body else None),
        f"Request Method must be {method.http}. x attempted": T(verb=wrong, fills=(wrong,)),
        "XML Empty": T(raw=""),
        "XML parse error. x at line y, column z": T(raw="<request><broken></request>"),
        "XML Parse Error": T(raw="<request><broken></request>"),
        "Output Type Invalid": T({"output": "CSV"}),
        "Page Number not an integer": T({"page": "first"}),
        "Limit not an integer": T({"limit": "many"}),
        "Order Field Invalid": T({"order": "zz_ASC"}),
        "Order Direction Invalid": T({"order": f"{first}_UP"}),
        "Internal Server Error": T(fault="500"),
    }
    if GENERIC_LIMIT.match(text):
        return T({"limit": "0"})
    if GENERIC_REQUIRED_FIELDS.match(text):
        # The documented list is an example; the answer names the fields actually refused.
        return T({"req_fields": "bogus"})
    return table.get(text)


def expected(error: ErrorDoc, trigger: Trigger, state: State) -> re.Pattern[str]:
    """The documented text with the trigger's fills; unfilled placeholders match anything."""
    text = error.message
    if GENERIC_REQUIRED_FIELDS.match(text):
        return re.compile(re.escape("Required Fields Invalid: bogus"))
    fills = trigger.fills(state) if callable(trigger.fills) else trigger.fills
    filled = iter(str(value) for value in fills)
    parts = re.split(r"\b([xyzXYZ])\b", text)
    pattern = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern += re.escape(part)
        else:
            fill = next(filled, None)
            pattern += ".+" if fill is None else re.escape(fill)
    return re.compile(pattern)


# -- running the cases ----------------------------------------------------------------

ALL = [m for methods in METHODS.values() for m in methods.values()]
CASES = [
    pytest.param(method, error, id=f"{method.interface}.{method.name}: {error.message[:60]}")
    for method in ALL
    for error in dict.fromkeys(method.errors)
]


def test_every_documented_error_has_a_trigger_or_a_reason() -> None:
    missing = []
    for method in ALL:
        key = f"{method.interface}.{method.name}"
        for error in method.errors:
            known = generic(method, error) or TRIGGERS.get(key, {}).get(error.message)
            reason = UNTRIGGERABLE.get(key, {}).get(error.message)
            if (known is None) == (reason is None):
                missing.append(f"{key}: {error.message}")
    assert missing == []


def test_tables_name_documented_errors_only() -> None:
    for table in (TRIGGERS, UNTRIGGERABLE):
        for key, messages in table.items():
            interface, name = key.split(".")
            documented = {error.message for error in METHODS[interface][name].errors}
            assert set(messages) <= documented, key


@pytest.fixture(scope="module")
def running() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=300, seed=3, keepalive_timeout=60.0) as emulator:
        yield emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def iovox(running: RunningEmulator) -> AsyncIterator[AsyncIovox]:
    async with running.client(max_retries=0) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(running: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with running.http_client() as client:
        yield client


async def answer(
    method: Method, trigger: Trigger, state: State, iovox: AsyncIovox, http: httpx.AsyncClient
) -> list[tuple[int | None, str]]:
    """The (status, message) items the emulator answers the trigger with."""
    params = value(trigger.params, state) or {}
    verb = trigger.verb or method.http
    if trigger.raw is not None or trigger.version != "3":
        response = await call(
            http, verb, method.interface, method.name, params, trigger.raw, version=trigger.version
        )
        assert response.status_code >= 400, response.text
        return [(status, text) for status, text in errors(response)]
    with pytest.raises(IovoxError) as caught:
        await iovox.request(
            method.interface,
            method.name,
            params=params,
            payload=value(trigger.payload, state) if verb in ("POST", "PUT") else None,
            http_method=verb,
        )
    error: BaseException | None = caught.value
    while error is not None and not isinstance(error, APIError):
        # A 500 on a call with side effects is an unknown outcome caused by the APIError.
        error = error.__cause__
    assert isinstance(error, APIError), caught.value
    assert error.errors, error
    return [(item.status, item.message) for item in error.errors]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("method", "error"), CASES)
async def test_documented_error_is_answered_exactly(
    running: RunningEmulator,
    iovox: AsyncIovox,
    http: httpx.AsyncClient,
    method: Method,
    error: ErrorDoc,
) -> None:
    key = f"{method.interface}.{method.name}"
    reason = UNTRIGGERABLE.get(key, {}).get(error.message)
    if reason is not None:
        pytest.skip(reason)
    trigger = generic(method, error) or TRIGGERS[key][error.message]
    state = running.state
    setup = SETUP.get(key)
    if setup is not None and trigger.payload is not None:
        setup(state)
    if trigger.fault is not None:
        running.set_faults({"script": {key: [trigger.fault]}})
    try:
        items = await answer(method, trigger, state, iovox, http)
        pattern = expected(error, trigger, state)
        matching = [status for status, text in items if pattern.fullmatch(text)]
        assert matching, f"{error.message!r} not among {items}"
        assert matching[0] == error.status
    except BaseException:
        running.set_faults(None)
        running.reset()
        raise
    finally:
        if trigger.fault is not None:
            running.set_faults(None)
        if trigger.fault is not None or setup is not None:
            running.reset()
