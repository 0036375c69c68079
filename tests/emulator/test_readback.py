"""Stateful read-back: what a write did is what the next request sees (client, loopback).

One test per family of the methods that used to answer from a stateless placeholder
(CLIs, time templates, blocked numbers, subscriptions, sub-accounts, action keys),
the Ruby peer's two SoundFiles methods, and sendSms' UUID ids, in depth. Every write
of the catalog has its read-back case in ``test_readback_all.py``, which checks that
none is missing.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator

import pytest

from iovox_async import AsyncIovox, BadRequestError
from iovox_async.emulator.seed import CLIS, IDLE_SUB_ACCOUNT
from iovox_async.testing import RunningEmulator

from .helpers import call

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FRAME = {"recurrence": "NONE", "time_from": "12:00", "time_to": "14:00", "days": {"day": ["MON"]}}


@pytest.fixture
async def iovox(emulator: RunningEmulator) -> AsyncIterator[AsyncIovox]:
    async with emulator.client(max_retries=0) as client:
        yield client


async def messages_of(call_result: object) -> list[str]:
    with pytest.raises(BadRequestError) as caught:
        await call_result  # type: ignore[misc]
    return [item.message for item in caught.value.errors]


async def test_clis_are_remembered(iovox: AsyncIovox) -> None:
    await iovox.clis.create_clis(cli=[447700900901])
    assert await messages_of(iovox.clis.create_clis(cli=[447700900901])) == [
        "Cli 1 of 1 already exists"
    ]
    await iovox.clis.delete_clis(clis=[447700900901])
    assert await messages_of(iovox.clis.delete_clis(clis=[447700900901])) == [
        "Cli 1 of 1 does not exist"
    ]
    await iovox.clis.create_clis(cli=[447700900901])  # gone, so it can be created again
    in_use = int(CLIS[0])
    assert await messages_of(iovox.clis.delete_clis(clis=[in_use])) == ["Cli 1 of 1 in use"]
    await iovox.clis.delete_clis(clis=[in_use], rm_if_in_use=True)
    assert await messages_of(iovox.clis.delete_clis(clis=[in_use])) == ["Cli 1 of 1 does not exist"]


async def labels(iovox: AsyncIovox) -> list[str]:
    page = await iovox.rules.get_time_templates(req_fields=["l"], order="l_ASC")
    return [row["label"] for row in page["results"]["result"]]


async def test_time_templates_round_trip(iovox: AsyncIovox) -> None:
    assert await labels(iovox) == ["Christmas", "Working hours"]
    await iovox.rules.create_time_templates(
        time_template=[{"label": "Lunch", "time_frames": {"time_frame": [FRAME]}}]
    )
    page = await iovox.rules.get_time_templates(time_template_label="Lunch")
    (lunch,) = page["results"]["result"]
    frame = lunch["time_frames"]["time_frame"][0]
    assert (frame["time_from"], frame["time_to"], frame["days"]["day"]) == (
        "12:00",
        "14:00",
        ["MON"],
    )
    await iovox.rules.update_time_templates(
        time_template=[
            {"label": "Christmas", "new_label": "Xmas", "time_frames": {"time_frame": [FRAME]}}
        ]
    )
    assert await labels(iovox) == ["Lunch", "Working hours", "Xmas"]
    # The blocking rule that used the template follows the rename.
    blocked = await iovox.rules.get_blocked_numbers(
        number="447429651522", req_fields=["no", "rules"]
    )
    (row,) = blocked["results"]["result"]
    assert row["rules"]["rule"][0]["time_template"] == "Xmas"
    refused = await messages_of(iovox.rules.delete_time_templates(time_template_labels=["Xmas"]))
    assert refused == [
        "This time template is used by a blocking rule you can force the deletion by using"
        " force as TRUE. Blocking rule numbers are 447429651522"
    ]
    await iovox.rules.delete_time_templates(time_template_labels=["Xmas", "Lunch"], force=True)
    assert await labels(iovox) == ["Working hours"]
    blocked = await iovox.rules.get_blocked_numbers(number="447429651522", req_fields=["rules"])
    assert blocked["results"]["result"][0]["rules"] in (None, {"rule": []})
    assert await messages_of(iovox.rules.delete_time_templates(time_template_labels=["Lunch"])) == [
        "time_template_label 1 of 1 does not exist"
    ]


async def numbers(iovox: AsyncIovox) -> list[tuple[str, str, str]]:
    page = await iovox.rules.get_blocked_numbers()
    return [(r["number"], r["in_or_out"], r["operator"]) for r in page["results"]["result"]]


async def test_blocked_numbers_round_trip(iovox: AsyncIovox) -> None:
    await iovox.rules.create_blocked_numbers(
        blocked_number=[
            {
                "number": "447700900555",
                "in_or_out": "OUT",
                "operator": "EQUALS",
                "default": "ALLOW",
                "rules": {
                    "rule": [
                        {
                            "link_ids": {"link_id": ["L00001", "L00002"]},
                            "time_template": "Working hours",
                            "blocking_type": "BLOCK",
                        }
                    ]
                },
            }
        ]
    )
    assert ("447700900555", "out", "EQUALS") in await numbers(iovox)
    page = await iovox.rules.get_blocked_numbers(number="447700900555", req_fields=["no", "rules"])
    (row,) = page["results"]["result"]
    assert row["default"] == "ALLOW"
    assert row["rules"]["rule"][0]["links"]["link_id"] == ["L00001", "L00002"]
    await iovox.rules.update_blocked_numbers(
        blocked_number=[
            {
                "number": "447700900555",
                "in_or_out": "OUT",
                "operator": "EQUALS",
                "new_operator": "STARTSWITH",
                "default": "BLOCK",
            }
        ]
    )
    listed = await numbers(iovox)
    assert ("447700900555", "out", "STARTSWITH") in listed
    assert ("447700900555", "out", "EQUALS") not in listed
    await iovox.rules.delete_blocked_numbers(blocked_numbers=["447700900555;OUT;STARTSWITH"])
    assert "447700900555" not in [number for number, _, _ in await numbers(iovox)]
    gone = iovox.rules.delete_blocked_numbers(blocked_numbers=["447700900555;OUT;STARTSWITH"])
    assert await messages_of(gone) == ["Blocked Number 1 of 1 does not exist"]


SUBSCRIPTION = {
    "recurring_credit": 500,
    "voxnumber_quantity": 50,
    "billing_length": 1,
    "billing_length_unit": "M",
}


async def test_subscription_cancel_and_renew(emulator: RunningEmulator, iovox: AsyncIovox) -> None:
    await iovox.subscriptions.cancel_subscription()
    assert await messages_of(iovox.subscriptions.cancel_subscription()) == [
        "There are no active subscriptions in this account"
    ]
    spare = [vox.number for vox in emulator.state.free_numbers()[:2]]
    await iovox.subscriptions.update_subscription_details(
        **SUBSCRIPTION, voxnumbers_to_remove={"voxnumber": spare}
    )
    owned = await iovox.voxnumbers.get_voxnumbers(req_fields=["vn"], limit=5000)
    listed = {value for row in owned["results"]["result"] for value in row.values()}
    assert listed and not listed & set(spare)
    await iovox.subscriptions.cancel_subscription()  # active again after the update


async def test_sub_accounts_and_credit_check(emulator: RunningEmulator, iovox: AsyncIovox) -> None:
    await iovox.users.create_sub_account(
        account_name="new-sub", parent_account_name=emulator.username
    )
    refused = await messages_of(
        iovox.users.create_sub_account(
            account_name="new-sub", parent_account_name=emulator.username
        )
    )
    assert refused == ["Account Name already exists"]
    await iovox.users.set_account_check_credit(sub_account_name="new-sub", check_credit=True)
    async with emulator.http_client() as http:
        headers = {"SubAccountName": "new-sub"}
        answer = await http.get(
            "/Subscriptions",
            params={"v": "3", "method": "getAccountCreditDetails"},
            headers=headers,
        )
    assert "<check_credit>TRUE</check_credit>" in answer.text
    own = await iovox.subscriptions.get_account_credit_details()
    assert own["check_credit"] in (False, "FALSE")
    await iovox.subscriptions.cancel_subscription(sub_account_name="new-sub")
    refused = await messages_of(
        iovox.users.set_account_check_credit(sub_account_name="new-sub", check_credit=False)
    )
    assert refused == [
        "The account must have active subscriptions to set credit check. Create a subscription"
        " for this account first."
    ]
    idle = iovox.subscriptions.cancel_subscription(sub_account_name=IDLE_SUB_ACCOUNT)
    assert await messages_of(idle) == ["There are no active subscriptions in this account"]


async def test_action_keys_and_portal_logins(iovox: AsyncIovox) -> None:
    before = await iovox.js_api.get_action_key()
    created = await iovox.js_api.create_action_key()
    assert re.fullmatch(r"[0-9a-f]{40}", created["action_key"])
    assert created != before
    assert await iovox.js_api.get_action_key() == created
    first = await iovox.user.user_portal_login()
    second = await iovox.user.user_portal_login()
    assert first["login_url"] != second["login_url"]


async def test_sound_file_upload_and_delete(iovox: AsyncIovox) -> None:
    audio = b"ID3\x04\x00" + bytes(range(200))
    await iovox.sound_files.upload_sound_file_data(
        sound_label="welcome", sound_group="default", sound_file=base64.b64encode(audio).decode()
    )
    data = await iovox.sound_files.get_sound_file_data(sound_label="welcome", sound_group="default")
    assert data == audio
    await iovox.sound_files.delete_sound_file(sound_label="welcome", sound_group="default")
    listed = await iovox.sound_files.get_sound_files()
    assert "welcome" not in [row["sound_label"] for row in listed["results"]["result"]]
    again = iovox.sound_files.delete_sound_file(sound_label="welcome", sound_group="default")
    assert await messages_of(again) == ["Sound File does not exist"]


async def test_send_sms_answers_a_uuid_that_get_sms_data_finds(
    emulator: RunningEmulator, iovox: AsyncIovox
) -> None:
    sent = await iovox.sms.send_sms(origin="IOVOX", destination="447700900123", message="hi")
    assert UUID.match(sent["sms_activity_id"])
    found = await iovox.sms.get_sms_data(sms_activity_id=sent["sms_activity_id"])
    assert [row["message"] for row in found["results"]["result"]] == ["hi"]
    seeded = next(iter(emulator.state.sms))
    assert UUID.match(seeded)
    async with emulator.http_client() as http:
        response = await call(
            http,
            "GET",
            "SMS",
            "getSmsData",
            {"sms_activity_id": seeded, "sdt": "2000-01-01", "edt": "2100-01-01"},
        )
    assert seeded in response.text
