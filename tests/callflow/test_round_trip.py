"""Call flows keep their rule order from read to write-back (issue 12, item 5)."""

from __future__ import annotations

from iovox_async import RawXML
from iovox_async.callflow import (
    CallFlow,
    call,
    evaluate,
    failure,
    http_request,
    keypress_failure_message,
    message_keypress,
    on_keys,
    on_match,
    on_result,
    on_time,
    play,
    send_sms,
    sound,
    time_based,
    voicemail,
)
from iovox_async.testing import RunningEmulator


def mixed_flow(name: str = "Mixed IVR") -> CallFlow:
    """Every documented rule type, interleaved so that grouping by name would reorder them."""
    return CallFlow(
        name,
        notes="round trip & order",
        rules=[
            play("p1", "Welcome", sound("welcome", "greetings")),
            http_request(
                "h1", "Log call", url="https://hooks.test/in", params={"from": "$_callOrigin"}
            ),
            play("p2", "Disclaimer", sound("recorded")),
            message_keypress(
                "m1",
                "Menu",
                capture_keypress=True,
                timeout=10,
                prompt=play("p3", "Options", sound("menu")),
                on=[
                    on_keys("1", call("c1", "Sales", destination_phone_number="?", record=True)),
                    on_keys(
                        "2",
                        send_sms(
                            "s1",
                            "Text us",
                            from_="$_partnerName",
                            message="Thanks for calling",
                            destination_phone_number="?",
                            destination_contact_id="?",
                            destination_contact_name="?",
                        ),
                    ),
                ],
                failure=failure(
                    play("p4", "Goodbye", sound("bye")),
                    attempts=3,
                    messages=[keypress_failure_message("onNoKeypress", sound("again"))],
                ),
            ),
            time_based(
                "t1",
                "Office hours",
                on=[on_time("Weekdays", call("c2", "Office", destination_contact_id="?"))],
            ),
            call(
                "c3",
                "Agent",
                destination_contact_id="?",
                timeout=20,
                on=[
                    on_result(
                        ["BUSY", "NO_ANSWER"],
                        voicemail(
                            "v1",
                            "Voicemail",
                            from_="noreply@iovox.test",
                            subject="New message",
                            silence=5,
                            max_duration=300,
                            template_name="emailtemplate02",
                            destination_email_address="?",
                            destination_contact_id="?",
                            message=[sound("leave_message")],
                        ),
                    )
                ],
            ),
            evaluate(
                "e1",
                "Check",
                left_expr_value="$_x",
                on=[on_match("1", "EQUALS", play("p5", "One"))],
            ),
            play("p6", "Last words", sound("thanks")),
        ],
    )


def order(flow: CallFlow) -> list[str]:
    return [f"{rule.tag}:{rule.get('id')}" for rule in flow.rules]


async def test_read_write_back_read_again_is_identical(emulator: RunningEmulator) -> None:
    built = mixed_flow()
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(call_flow=built.to_xml())
        first = await iovox.call_flow.get_call_flow(call_flow=built.name)
        verbatim = first["callFlow_xml"]
        assert isinstance(verbatim, RawXML)
        assert order(CallFlow.from_xml(verbatim)) == order(built)
        assert CallFlow.from_xml(verbatim) == built, "every attribute and part survives"

        await iovox.call_flow.update_call_flow(call_flow=verbatim)  # unchanged
        second = await iovox.call_flow.get_call_flow(call_flow=built.name)
        assert second["callFlow_xml"] == verbatim
        assert second == first

        via_flow = await iovox.flow.get_flow(flow_name=built.name, flow_type="Call")
        assert via_flow["callFlow_xml"] == verbatim
        await iovox.flow.update_flow(call_flow=via_flow["callFlow_xml"])
        third = await iovox.flow.get_flow(flow_name=built.name, flow_type="Call")
        assert third["callFlow_xml"] == verbatim


async def test_dicts_group_rules_but_the_xml_keeps_order(emulator: RunningEmulator) -> None:
    built = mixed_flow("Grouped")
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(call_flow=built.to_xml())
        read = await iovox.call_flow.get_call_flow(call_flow="Grouped")
    grouped = [rule["@id"] for rule in read["callFlow"]["play"]]
    assert grouped == ["p1", "p2", "p6"], "dicts: plays grouped together"
    assert order(CallFlow.from_xml(read["callFlow_xml"]))[:3] == [
        "play:p1",
        "httpRequest:h1",
        "play:p2",
    ]


async def test_a_modified_flow_is_written_in_the_new_order(emulator: RunningEmulator) -> None:
    built = mixed_flow("Reordered")
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(call_flow=built.to_xml())
        read = CallFlow.from_xml(
            (await iovox.call_flow.get_call_flow(call_flow="Reordered"))["callFlow_xml"]
        )
        reversed_flow = CallFlow(read.name, rules=read.rules[::-1], notes=read.notes)
        await iovox.call_flow.update_call_flow(call_flow=reversed_flow.to_xml())
        again = await iovox.call_flow.get_call_flow(call_flow="Reordered")
    assert order(CallFlow.from_xml(again["callFlow_xml"])) == order(built)[::-1]


async def test_plain_text_xml_is_sent_as_xml(emulator: RunningEmulator) -> None:
    text = str(mixed_flow("As text").to_xml())
    async with emulator.client() as iovox:
        await iovox.call_flow.create_call_flow(call_flow=text)
        read = await iovox.call_flow.get_call_flow(call_flow="As text")
    assert CallFlow.from_xml(read["callFlow_xml"]) == mixed_flow("As text")
