"""The call-flow builder refuses what the documented vocabulary lacks, and parses in order."""

from __future__ import annotations

import asyncio

import pytest

from iovox_async import ValidationError
from iovox_async._catalog import METHODS
from iovox_async._convert import shape_for
from iovox_async._decode import decode_body
from iovox_async.callflow import (
    RULES,
    CallFlow,
    Node,
    call,
    failure,
    message_keypress,
    on_keys,
    on_result,
    play,
    send_sms,
    sound,
)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"<dance> is not allowed in <callFlow>"):
        CallFlow("F", rules=[Node("dance", (("id", "1"), ("label", "x")))])


def test_unknown_attribute_is_refused_by_the_constructor() -> None:
    with pytest.raises(
        ValidationError, match=r"call takes no attribute 'colour'.*destination_phone_number"
    ):
        call("c1", "Call", colour="red")


def test_unknown_attribute_in_a_hand_made_node_is_refused() -> None:
    rule = Node("play", (("id", "1"), ("label", "x"), ("volume", "11")))
    with pytest.raises(ValidationError, match=r"<callFlow>/play has no attribute 'volume'"):
        CallFlow("F", rules=[rule])


def test_unknown_part_deep_inside_is_refused() -> None:
    bad_event = Node("keyEvent", (("action", "onMatchKeypressSequence"),), (Node("confetti"),))
    menu = message_keypress("m", "Menu", on=[bad_event])
    with pytest.raises(ValidationError, match=r"<confetti> is not allowed in .*keyEvent"):
        CallFlow("F", rules=[menu])


def test_rules_nest_only_inside_events_and_failures() -> None:
    stray = Node("soundFile", (("soundLabel", "a"),), (play("p", "P"),))
    with pytest.raises(
        ValidationError, match=r"<play> is not allowed in <callFlow>/play/soundFile"
    ):
        CallFlow("F", rules=[Node("play", (("id", "1"), ("label", "x")), (stray,))])


def test_documented_values_are_enforced_but_variables_pass() -> None:
    with pytest.raises(ValidationError, match=r"smsAlertDestinationType must be one of PRIMARY"):
        CallFlow("F", rules=[send_sms("s", "S", sms_alert_destination_type="EVERYONE")])
    CallFlow("F", rules=[send_sms("s", "S", sms_alert_destination_type="?")])


def test_a_flow_needs_a_name_and_a_rule() -> None:
    with pytest.raises(ValidationError, match="name must be non-empty"):
        CallFlow(" ", rules=[play("p", "P")])
    with pytest.raises(ValidationError, match="at least one rule"):
        CallFlow("F", rules=[])


def test_a_part_may_occur_once_where_the_spec_says_so() -> None:
    doubled = Node(
        "call", (("id", "c"), ("label", "C")), (Node("eventHandlers"), Node("eventHandlers"))
    )
    with pytest.raises(ValidationError, match="<eventHandlers> may occur only once"):
        CallFlow("F", rules=[doubled])


def test_the_builder_covers_the_spec_vocabulary() -> None:
    spec = next(
        e for e in METHODS["CallFlow"]["createCallFlow"].payload or () if e.name == "callFlow"
    )
    assert sorted(RULES) == sorted(
        child.name for child in spec.children if not child.name.startswith("@")
    )


def test_from_xml_keeps_order_attributes_and_nesting() -> None:
    text = (
        '<callFlow name="N" notes="a &amp; b">'
        '<call id="c" label="C" destinationContactId="?"><eventHandlers>'
        '<callEvent action="onMatchResult" result="BUSY"><play id="p" label="P"/></callEvent>'
        '<failure><sendSms id="s" label="S"/></failure>'
        "</eventHandlers></call>"
        '<play id="q" label="Q"><soundFile soundLabel="x"/></play>'
        "</callFlow>"
    )
    flow = CallFlow.from_xml(text)
    assert flow.notes == "a & b"
    assert [rule.tag for rule in flow.rules] == ["call", "play"]
    assert flow.to_xml() == text
    expected = call(
        "c",
        "C",
        destination_contact_id="?",
        on=[on_result("BUSY", play("p", "P"))],
        failure=failure(send_sms("s", "S")),
    )
    assert flow.rules[0] == expected


def test_from_xml_accepts_a_whole_document_and_refuses_junk() -> None:
    document = '<?xml version="1.0"?><response><callFlow name="N"><play id="1" label="x"/></callFlow></response>'
    assert CallFlow.from_xml(document).name == "N"
    with pytest.raises(ValidationError, match="malformed XML"):
        CallFlow.from_xml("<callFlow name='N'><play>")
    with pytest.raises(ValidationError, match="document type"):
        CallFlow.from_xml('<!DOCTYPE x [<!ENTITY a "b">]><callFlow name="N"/>')
    with pytest.raises(ValidationError, match="unexpected text"):
        CallFlow.from_xml('<callFlow name="N">hello<play id="1" label="x"/></callFlow>')
    with pytest.raises(ValidationError, match="expected one <callFlow>"):
        CallFlow.from_xml("<response/>")


def test_attribute_values_are_escaped_and_typed() -> None:
    rule = call("c", 'Say "hi" <now>', record=False, timeout=15)
    flow = CallFlow("F", rules=[rule, on_keys_rule()])
    text = flow.to_xml()
    assert 'label="Say &quot;hi&quot; &lt;now&gt;"' in text
    assert 'record="false" timeout="15"' in text
    assert CallFlow.from_xml(text) == flow


def on_keys_rule() -> Node:
    return message_keypress("m", "M", on=[on_keys("9", play("p", "P", sound("s", "g")))])


def decoded(body: str) -> dict[str, object]:
    method = METHODS["CallFlow"]["getCallFlow"]
    result = asyncio.run(decode_body(body.encode(), "text/xml", shape=shape_for(method)))
    assert isinstance(result, dict)
    return result


def test_the_verbatim_text_is_cut_from_the_body_unchanged() -> None:
    inner = '<callFlow name=\'a&amp;b\'>\n  <play id="1" label=\'x\'/><call id="2" label="c"></call>\n</callFlow>'
    result = decoded(f'<?xml version="1.0" encoding="utf-8"?>\n<response>\n{inner}\n</response>')
    assert result["callFlow_xml"] == inner
    empty = decoded('<response><callFlow name="e"/><other/></response>')
    assert empty["callFlow_xml"] == '<callFlow name="e"/>'
    assert "callFlow_xml" not in decoded("<response><other/></response>")
