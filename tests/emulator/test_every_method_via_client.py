"""Every generated coroutine of the client, called against the emulator over loopback HTTP.

One case per catalog method. The keyword arguments start from the spec-built samples
of ``tests/interfaces/test_generated.py`` (every query parameter, a full sample
payload) and are then pointed at the emulator's seed data (node ``N0001``, its links,
contacts, recorded calls, free numbers...) so that the call succeeds. A success must
decode as the spec says: a dict for XML methods whose repeated elements are lists and
whose elements the spec knows, ``{}`` for empty answers, MP3 bytes for binary ones.
Methods in ``EXPECTED_ERRORS`` must instead fail with messages the method documents
(or the API's general protocol errors). Anything else the client raises is a finding.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from iovox_async import AsyncIovox, BadRequestError
from iovox_async._catalog import METHODS
from iovox_async._spec import ElementSpec, Method
from iovox_async._verbatim import SUFFIX as VERBATIM_SUFFIX
from iovox_async.emulator.calldata import INDEX
from iovox_async.emulator.handlers.calls import VOICEMAIL_RULE
from iovox_async.emulator.seed import CLIS, SUB_ACCOUNT
from iovox_async.emulator.state import State
from iovox_async.interfaces.purchase import PurchaseVoxNumbersItem
from iovox_async.testing import RunningEmulator

from ..interfaces.test_generated import _arg, coroutine, kwargs_for

ALL = [m for methods in METHODS.values() for m in methods.values()]

DROP = object()
"""An override value meaning "leave this argument out"."""

AUDIO = b"ID3\x04\x00" + bytes(range(256)) * 8
AUDIO_B64 = base64.b64encode(AUDIO).decode()


# -- the API's general errors (General.md: the index page and every method page) -------

GENERAL_ERRORS = (
    "HTTP 401: Unauthorized",
    "HTTPS Required",
    "Username Empty",
    "Secure Key Empty",
    "Interface Name Empty",
    "Interface does not exist: x",
    "Method Empty",
    "Method Invalid: x in interface y",
    "API Version Empty",
    "API Version Invalid",
    "Invalid API Version",
    "Request Method must be x. y attempted",
    "Page Number not an integer",
    "Limit not an integer",
    "Output Type Invalid",
    "Order Field Invalid",
    "Order Direction Invalid",
    "XML Empty",
    "XML parse error. x at line y, column z",
    "Request Empty",
    "Internal Server Error",
)
GENERAL_PATTERNS = (r"Limit must be between 1 and \d+", r"Required Fields Invalid: .+")


def template(message: str) -> str:
    """A documented message as a regex: ``x``/``y``/``z`` placeholders match anything."""
    parts = re.split(r"\b[xyzXYZ]\b", message)
    return ".+".join(re.escape(part) for part in parts)


def documented(method: Method) -> re.Pattern[str]:
    patterns = [template(error.message) for error in method.errors]
    patterns += [template(message) for message in GENERAL_ERRORS]
    patterns += GENERAL_PATTERNS
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def test_documented_messages_use_placeholders() -> None:
    method = METHODS["Links"]["deleteLinks"]
    pattern = documented(method)
    assert pattern.fullmatch("Link ID 2 of 3 does not exist")
    assert pattern.fullmatch("Request Method must be DELETE. GET attempted")
    assert pattern.fullmatch("Limit must be between 1 and 5000")
    assert not pattern.fullmatch("Link ID 2 of 3 is on fire")
    assert not pattern.fullmatch("Node ID 1 of 1 does not exist")


# -- spec-shaped results --------------------------------------------------------------


def shape_problems(value: Any, specs: tuple[ElementSpec, ...], path: str) -> list[str]:
    """Where a decoded tree departs from the spec's elements (empty when it fits)."""
    if not specs:
        return []  # text, or content the spec does not describe
    if value is None or isinstance(value, str):
        return []  # an empty element, or text only
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} where elements were expected"]
    known = {spec.name: spec for spec in specs}
    problems = []
    for key, item in value.items():
        where = f"{path}/{key}"
        spec = known.get(key)
        if key == "#text":
            continue
        companion = known.get(key.removesuffix(VERBATIM_SUFFIX))
        if spec is None and companion is not None and companion.type == "xml":
            continue  # the xml element's verbatim RawXML, beside its dicts
        if spec is None:
            problems.append(f"{where}: not in the spec")
            continue
        if spec.repeated and not isinstance(item, list):
            problems.append(f"{where}: repeated element decoded as {type(item).__name__}")
        if not spec.repeated and isinstance(item, list):
            problems.append(f"{where}: single element decoded as a list")
        for one in item if isinstance(item, list) else [item]:
            problems += shape_problems(one, spec.children, where)
    return problems


def test_shape_problems_are_found() -> None:
    method = METHODS["Countries"]["getCountries"]
    good = {"current_page": "1", "results": {"result": [{"code": "44", "name": "UK"}]}}
    assert shape_problems(good, method.response, "") == []
    lone = {"results": {"result": {"code": "44"}}}
    assert shape_problems(lone, method.response, "") == [
        "/results/result: repeated element decoded as dict"
    ]
    extra = {"results": {"result": [{"code": "44", "flag": "x"}]}}
    assert shape_problems(extra, method.response, "") == ["/results/result/flag: not in the spec"]


# -- arguments ------------------------------------------------------------------------


def spec_kwargs(method: Method) -> dict[str, Any]:
    """The spec-built sample arguments, made usable as a query on seed data.

    Free-text filters of GETs are left out (a sample string matches no seed record);
    ``page`` is 1, ``req_fields`` asks for every documented field and ``order`` sorts
    by the first of them, so that lists come back with rows in them.
    """
    kwargs, _, _ = kwargs_for(method)
    if method.http != "GET":
        return kwargs
    for param in method.query:
        if not param.required and not param.values and param.name not in ("page", "limit"):
            kwargs.pop(_arg(param.name))
    if "page" in kwargs:
        kwargs["page"] = 1
    fields = method.param("req_fields")
    if fields is not None and fields.values:
        kwargs["req_fields"] = list(fields.values)
        if method.param("order") is not None:
            kwargs["order"] = f"{fields.values[0]}_ASC"
    return kwargs


class Seed:
    """Identifiers of the emulator's seed data the cases point at."""

    def __init__(self, state: State) -> None:
        self.state = state
        rows = state.call_store.rows
        recorded, rule, talk = INDEX["has_recording"], INDEX["rule_result"], INDEX["talk_time_sec"]
        self.recorded = [row[0] for row in rows if row[recorded] == "1"]
        self.voicemail = [
            row[0] for row in rows if row[rule] == VOICEMAIL_RULE and row[talk] != "0"
        ]
        self.free = [vox.number for vox in state.free_numbers()]
        self.links = sorted(state.links)
        self.with_flow = [link for link in self.links if state.links[link].rule_template]
        # The seed's call and SMS history lies in the days before the reference date.
        self.window = {"sdt": state.reference - dt.timedelta(days=365), "edt": state.reference}

    def free_vox(self, index: int) -> Any:
        return self.state.voxnumbers[self.free[index]]


def items(sample: Any, *changes: dict[str, Any]) -> list[dict[str, Any]]:
    """One copy of a sample item (a dict, or the first of a list) per change set."""
    first = sample[0] if isinstance(sample, list) else sample
    return [{**copy.deepcopy(first), **change} for change in changes]


CATS = {"category": [{"category_id": "201"}, {"parent_category_id": "100", "category_id": "101"}]}
"""Seed categories for new links: Channel/Website and Region/North."""

FRAME = {
    "date_from": dt.date(2024, 1, 1),
    "date_to": dt.date(2024, 12, 31),
    "recurrence": "NONE",
    "time_from": "12:00",
    "time_to": "14:00",
    "days": {"day": ["MON", "FRI"]},
}
"""A valid time frame for time-template payloads."""
BLOCKING_RULE: dict[str, Any] = {
    "link_ids": {"link_id": ["L00001"]},
    "time_template": "Christmas",
    "blocking_type": "ALLOW",
}
"""An exception to a blocked number's default, on seed data."""

Recipe = Callable[[dict[str, Any], Seed], dict[str, Any]]


def flow_update(name: str) -> Recipe:
    def recipe(kw: dict[str, Any], seed: Seed) -> dict[str, Any]:
        flow = copy.deepcopy(kw["call_flow"])
        flow["@name"] = name
        return {"call_flow": flow}

    return recipe


def node_full(node_id: str) -> Recipe:
    """A node (new or existing) with two links: flows, numbers (by area, by number), categories."""

    def recipe(kw: dict[str, Any], seed: Seed) -> dict[str, Any]:
        node = copy.deepcopy(kw["node"])
        node["node_id"] = node_id
        node["links"] = {"link": full_links(node["links"]["link"], seed)}
        return {"node": node}

    return recipe


def full_links(sample: Any, seed: Seed) -> list[dict[str, Any]]:
    first, second = seed.free_vox(0), seed.free_vox(1)
    links = items(
        sample,
        {"link_id": "NEW-L1", "link_name": "Web", "rule_template_name": "Call Forward"},
        {"link_id": "NEW-L2", "link_name": "Paper", "rule_template_name": "Call Sales"},
    )
    links[0]["assign_voxnumber"] = {
        "method": "BY AREA",
        "voxnumber_idd": first.country_code,
        "area_code": first.area_code,
    }
    links[1]["assign_voxnumber"] = {"method": "BY VOXNUMBER", "full_voxnumber": second.number}
    for link in links:
        link["categories"] = CATS
    return links


RECIPES: dict[str, dict[str, Any] | Recipe] = {
    # CallFlow
    "CallFlow.getCallFlows": {"template_type": "ALL", "advanced": DROP},
    "CallFlow.getCallFlow": {"call_flow": "Call Sales"},
    "CallFlow.updateCallFlow": flow_update("Call Sales"),
    "CallFlow.deleteCallFlows": {"call_flows": ["Call Sales", "Support Line"]},
    # Calling
    "Calling.initiateCall": lambda kw, seed: {"link_id": seed.with_flow[0]},
    # Calls
    "Calls.getCallData": lambda kw, seed: {**seed.window, "dconst": DROP},
    "Calls.getCallMetrics": lambda kw, seed: seed.window,
    "Calls.getCallRecording": lambda kw, seed: {"id": seed.recorded[0]},
    "Calls.getVoicemailRecording": lambda kw, seed: {"id": seed.voicemail[0]},
    "Calls.transcribeCallRecording": lambda kw, seed: {
        "calls": {
            "call": items(kw["calls"]["call"], {"id": seed.recorded[0]}, {"id": seed.recorded[1]})
        }
    },
    # Categories
    "Categories.getCategoryId": {"label": "Channel", "value": "Website"},
    "Categories.getCategories": {"parent_category_id": "200"},
    "Categories.createCategoryConfigurations": lambda kw, seed: {
        "category": items(
            kw["category"],
            {"category_id": "900", "label": "Agent", "colour": "#FF8800"},
            {"category_id": "910", "label": "Season", "colour": "0A0"},
        )
    },
    "Categories.createCategories": lambda kw, seed: {
        "category": items(
            kw["category"],
            {"parent_category_id": "200", "category_id": "207", "label": "Channel"},
            {"parent_category_id": "300", "category_id": "303", "label": "Campaign"},
        )
    },
    "Categories.deleteCategoryConfigurations": {"categories_ids": ["100", "300"]},
    "Categories.deleteCategories": {"categories": ["301", "302"]},
    # Contacts
    "Contacts.getContactDetails": {"contact_id": "C0001"},
    "Contacts.createContacts": lambda kw, seed: {
        "contact": items(kw["contact"], {"contact_id": "NEW-C1"}, {"contact_id": "NEW-C2"})
    },
    "Contacts.updateContacts": lambda kw, seed: {
        "contact": items(
            kw["contact"],
            {"contact_id": "C0001", "new_contact_id": "NEW-C1"},
            {"contact_id": "C0002", "new_contact_id": "NEW-C2"},
        )
    },
    "Contacts.deleteContacts": {"contact_ids": ["C0001", "C0002"]},
    # Flow
    "Flow.updateFlow": flow_update("Call Sales"),
    "Flow.getFlow": {"flow_name": "Call Sales", "flow_type": "Call"},
    "Flow.getFlows": {"template_type": "ALL", "advanced": DROP, "flow_type": "Call"},
    "Flow.deleteFlows": {"flows": ["Call Sales", "Support Line"]},
    # Links
    "Links.getLinks": {"node_id": "N0001"},
    "Links.createLinks": lambda kw, seed: {
        "link": items(
            kw["link"],
            {"node_id": "N0001", "link_id": "NEW-L1", "link_name": "Web", "categories": CATS},
            {"node_id": "N0002", "link_id": "NEW-L2", "link_name": "Paper", "categories": CATS},
        )
    },
    "Links.createLinksFull": node_full("N0001"),
    "Links.updateLinks": lambda kw, seed: {
        "link": items(
            kw["link"],
            {"link_id": "L00001", "new_link_id": "NEW-L1"},
            {"link_id": "L00002", "new_link_id": "NEW-L2"},
        )
    },
    "Links.deleteLinks": {"link_ids": ["L00001", "L00002"]},
    "Links.attachVoxnumberToLink": lambda kw, seed: {
        "link": [
            {"link_id": "L00001", "method": "BY VOXNUMBER", "full_voxnumber": seed.free[0]},
            {
                "link_id": "L00002",
                "method": "BY AREA",
                "voxnumber_idd": seed.free_vox(1).country_code,
                "area_code": seed.free_vox(1).area_code,
            },
        ]
    },
    "Links.removeVoxnumberFromLink": {"link_id": ["L00001", "L00002"]},
    "Links.attachRuleTemplateToLinks": {
        "template_name": "Call Forward",
        "link_ids": {"link_id": ["L00001", "L00002"]},
    },
    "Links.removeRuleTemplateFromLinks": {"link_ids": {"link_id": ["L00001", "L00002"]}},
    "Links.attachSMSTemplateToLinks": {
        "template_name": "Call Forward",
        "link_ids": {"link_id": ["L00001", "L00002"]},
    },
    "Links.removeSMSTemplateFromLinks": {"link_ids": {"link_id": ["L00001", "L00002"]}},
    "Links.attachCategoryToLink": lambda kw, seed: {
        "link": items(
            kw["link"],
            {"link_id": "L00001", "parent_category_id": 100, "category_id": 101, "value": "North"},
            {"link_id": "L00002", "parent_category_id": 300, "category_id": 304, "value": "Winter"},
        )
    },
    "Links.removeCategoryFromLink": lambda kw, seed: {
        "link": [
            {
                "link_id": link,
                "category_id": category,
                "label": seed.state.categories[category].label,
            }
            for link in ("L00001", "L00002")
            for category in seed.state.links[link].category_ids[:1]
        ]
    },
    # Nodes
    "Nodes.getNodeDetails": {"node_id": "N0001"},
    "Nodes.createNodes": lambda kw, seed: {
        "node": items(kw["node"], {"node_id": "NEW-1"}, {"node_id": "NEW-2"})
    },
    "Nodes.createNodeFull": node_full("NEW-1"),
    "Nodes.updateNodes": lambda kw, seed: {
        "node": items(
            kw["node"],
            {"node_id": "N0001", "new_node_id": "NEW-1"},
            {"node_id": "N0002", "new_node_id": "NEW-2"},
        )
    },
    "Nodes.deleteNodes": {"node_ids": ["N0001", "N0002"]},
    # Purchase
    "Purchase.purchaseVoxNumbers": lambda kw, seed: {
        "items": {
            "item": items(
                kw["items"]["item"],
                {"country_code": 44, "area_code": 20, "number_type": "GEOGRAPHIC", "quantity": 2},
                {"country_code": 33, "area_code": 1, "number_type": "GEOGRAPHIC", "quantity": 1},
            )
        }
    },
    # Rules
    "Rules.getRuleTemplates": {"template_type": "ALL", "advanced": DROP},
    "Rules.getVariableRulesOfTemplate": lambda kw, seed: {
        "template_name": "Call Sales",
        "link_id": next(
            link for link in seed.links if seed.state.links[link].rule_template == "Call Sales"
        ),
    },
    "Rules.createTimeTemplates": {
        "time_template": [
            {"label": "Lunch", "time_frames": {"time_frame": [FRAME]}},
            {"label": "Evenings", "time_frames": {"time_frame": [FRAME, FRAME]}},
        ]
    },
    "Rules.updateTimeTemplates": {
        "time_template": [
            {
                "label": "Working hours",
                "new_label": "Office",
                "time_frames": {"time_frame": [FRAME]},
            },
            {"label": "Christmas", "time_frames": {"time_frame": [FRAME]}},
        ]
    },
    "Rules.deleteTimeTemplates": {"time_template_labels": ["Working hours", "Christmas"]},
    "Rules.createBlockedNumbers": {
        "blocked_number": [
            {
                "number": "447700900555",
                "in_or_out": "IN",
                "operator": "EQUALS",
                "default": "BLOCK",
                "rules": {"rule": [BLOCKING_RULE]},
            },
            {"number": "34", "in_or_out": "OUT", "operator": "STARTSWITH", "default": "BLOCK"},
        ]
    },
    "Rules.updateBlockedNumbers": {
        "blocked_number": [
            {
                "number": "447429651520",
                "in_or_out": "IN",
                "operator": "EQUALS",
                "new_number": "447429651529",
                "default": "ALLOW",
                "rules": {"rule": [{**BLOCKING_RULE, "links": BLOCKING_RULE["link_ids"]}]},
            },
            {"number": "33", "in_or_out": "OUT", "operator": "STARTSWITH", "default": "ALLOW"},
        ]
    },
    "Rules.deleteBlockedNumbers": {
        "blocked_numbers": ["447429651520;IN;EQUALS", "33;OUT;STARTSWITH"]
    },
    # Clis
    "Clis.createClis": {"cli": [447700900901, 447700900902]},
    "Clis.deleteClis": {"clis": [int(number) for number in CLIS[1:]]},
    # Subscriptions and Users
    "Subscriptions.updateSubscriptionDetails": lambda kw, seed: {
        "voxnumbers_to_remove": {"voxnumber": seed.free[:2]}
    },
    "Subscriptions.cancelSubscription": {"sub_account_name": SUB_ACCOUNT},
    "Users.createSubAccount": lambda kw, seed: {"parent_account_name": seed.state.account_name},
    "Users.setAccountCheckCredit": {"sub_account_name": SUB_ACCOUNT},
    # SMS
    "SMS.sendSms": {"origin": "IOVOX", "destination": "447700900123"},
    "SMS.getSmsData": lambda kw, seed: {**seed.window, "direction": "OUT"},
    # SoundFiles
    "SoundFiles.getSoundFileData": {"sound_label": "welcome", "sound_group": "default"},
    "SoundFiles.createSoundFiles": lambda kw, seed: {
        "sound_file": items(
            kw["sound_file"],
            {"sound_label": "new-1", "sound_group": "shop", "sound_file": AUDIO_B64},
            {"sound_label": "new-2", "sound_group": "shop", "sound_file": AUDIO_B64},
        )
    },
    "SoundFiles.updateSoundFiles": lambda kw, seed: {
        "sound_file": items(
            kw["sound_file"],
            {"sound_label": "welcome", "sound_group": "default", "sound_file": AUDIO_B64},
            {"sound_label": "closed", "sound_group": "out_of_hours", "sound_file": AUDIO_B64},
        )
    },
    "SoundFiles.deleteSoundFiles": {"sound_files": ["welcome;default", "closed;out_of_hours"]},
    "SoundFiles.uploadSoundFileData": {
        "sound_label": "welcome",
        "sound_group": "default",
        "sound_file": AUDIO_B64,
    },
    "SoundFiles.deleteSoundFile": {"sound_label": "welcome", "sound_group": "default"},
    # Voxnumbers
    "Voxnumbers.setCallStatus": lambda kw, seed: {
        "voxnumbers": {"voxnumber": [seed.state.links[link].voxnumber for link in seed.links[:2]]}
    },
    "Voxnumbers.deleteVoxnumbersFromAccount": lambda kw, seed: {"full_voxnumbers": seed.free[:2]},
    "Voxnumbers.transferVoxnumbers": lambda kw, seed: {
        "origin_partner_name": "emulator-partner",
        "destination_partner_name": "emulator-partner-2",
        "voxnumbers": {"voxnumber": seed.free[:2]},
    },
}


async def buy_order(client: AsyncIovox) -> dict[str, Any]:
    """An order to look up (the seed has none): buy one London number first."""
    item: PurchaseVoxNumbersItem = {
        "country_code": 44,
        "area_code": 20,
        "number_type": "GEOGRAPHIC",
        "quantity": 1,
    }
    bought = await client.purchase.purchase_vox_numbers(items={"item": [item]})
    return {"order_reference": bought["order_reference"]}


PREPARE: dict[str, Callable[[AsyncIovox], Awaitable[dict[str, Any]]]] = {
    "Purchase.getOrderDetails": buy_order,
}
"""Setup through other methods, for cases whose records the seed lacks."""

EMPTY_LISTS: dict[str, str] = {}
"""List methods that cannot return rows from the seed; every other list must."""

UNDOCUMENTED_ELEMENTS: dict[str, set[str]] = {}
"""Elements the emulator may send that the spec lacks (none now: a gap goes in the spec)."""

EXPECTED_ERRORS: dict[str, str] = {}
"""Methods that cannot be made to succeed on seed data, and why (none at present)."""

KNOWN_BUGS: dict[str, str] = {}
"""Methods left out because the client, spec or emulator is wrong (none at present)."""


def arguments(method: Method, seed: Seed) -> dict[str, Any]:
    """Spec samples, with the method's recipe applied."""
    kwargs = spec_kwargs(method)
    recipe = RECIPES.get(f"{method.interface}.{method.name}", {})
    changes = recipe(kwargs, seed) if callable(recipe) else recipe
    for name, value in changes.items():
        if value is DROP:
            kwargs.pop(name, None)
        else:
            kwargs[name] = value
    return kwargs


def check_success(key: str, method: Method, result: Any) -> None:
    if method.response_kind == "binary":
        assert isinstance(result, bytes) and result[:3] == b"ID3", result[:20]
        return
    if method.response_kind == "empty":
        assert result == {}
        return
    assert isinstance(result, dict)
    problems = set(shape_problems(result, method.response, ""))
    assert problems <= UNDOCUMENTED_ELEMENTS.get(key, set()), sorted(problems)
    if "current_page" in {element.name for element in method.response}:
        rows = result["results"]["result"]
        assert isinstance(rows, list)
        assert bool(rows) is (key not in EMPTY_LISTS), rows
        assert int(result["total_results"]) >= len(rows)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningEmulator]:
    """One emulator for the module (keep-alive longer than any pause between cases)."""
    with RunningEmulator(calls=600, seed=3, keepalive_timeout=60.0) as emulator:
        yield emulator


@pytest.fixture
def fresh(running: RunningEmulator) -> RunningEmulator:
    """The module's emulator with its seed data rebuilt and its counters at zero."""
    running.reset()
    return running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def iovox(running: RunningEmulator) -> AsyncIterator[AsyncIovox]:
    """One client for every case (no retries: a first answer is what is judged)."""
    async with running.client(max_retries=0) as client:
        yield client


def test_tables_name_catalog_methods() -> None:
    names = {f"{m.interface}.{m.name}" for m in ALL}
    assert len(ALL) == 85
    tables = (RECIPES, PREPARE, EMPTY_LISTS, UNDOCUMENTED_ELEMENTS, EXPECTED_ERRORS, KNOWN_BUGS)
    for table in tables:
        assert set(table) <= names


def case(method: Method) -> Any:
    key = f"{method.interface}.{method.name}"
    marks = [pytest.mark.skip(reason=KNOWN_BUGS[key])] if key in KNOWN_BUGS else []
    return pytest.param(method, id=key, marks=marks)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("method", [case(m) for m in ALL])
async def test_every_method_via_the_client(
    fresh: RunningEmulator, iovox: AsyncIovox, method: Method
) -> None:
    key = f"{method.interface}.{method.name}"
    kwargs = arguments(method, Seed(fresh.state))
    prepare = PREPARE.get(key)
    if prepare is not None:
        kwargs.update(await prepare(iovox))
    call = coroutine(iovox, method)
    try:
        result = await call(**kwargs)
    except BadRequestError as error:
        pattern = documented(method)
        assert error.messages
        assert [m for m in error.messages if not pattern.fullmatch(m)] == [], "undocumented"
        assert key in EXPECTED_ERRORS, f"failed with documented errors: {error.messages}"
        return
    assert key not in EXPECTED_ERRORS, "succeeds now: take it out of EXPECTED_ERRORS"
    check_success(key, method, result)
    assert fresh.requests(key) == 1
    assert fresh.effects(key) == (0 if method.http == "GET" else 1)
    output = method.param("output")
    if method.http == "GET" and output is not None and "JSON" in output.values:
        # The same answer as JSON decodes to the same tree (lone items still lists).
        assert await call(**{**kwargs, "output": "JSON"}) == result
