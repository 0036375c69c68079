"""Bulk SMS and click-to-call: sent once each, unknown outcomes settled from the records.

The emulator's scripted faults decide which sends are lost: a ``drop`` applies the
send and then hangs up (really applied), a ``500`` answers before the method runs
(really not applied).
"""

from __future__ import annotations

from typing import Any

from iovox_async.bulk import Bulk
from iovox_async.testing import FaultSettings, run_emulator


def quick(client: Any) -> Any:
    client._transport.policy.base_delay = 0.01
    return client


def sms(number: int) -> dict[str, str]:
    return {"origin": "IOVOX", "destination": f"4477009000{number:02d}", "message": f"hi {number}"}


async def test_lost_sms_are_settled_applied_or_not_applied() -> None:
    faults = FaultSettings(script={"SMS.sendSms": ("drop", "500", "ok", "drop")})
    async with run_emulator(calls=5, seed=3) as emulator:
        async with quick(emulator.client()) as client:
            # Same text to the same number as item 0, sent before the batch: not ours.
            await client.sms.send_sms(**sms(1))
            emulator.set_faults(faults)
            items = [sms(1), sms(2), sms(3), sms(4), {"origin": "IOVOX"}]
            report = await Bulk(client).send_sms(items, concurrency=1, settle=0)
        assert emulator.requests("SMS.sendSms") == 1 + 4  # each valid item sent once
        statuses = [r.status for r in report]
        assert statuses == ["ok", "failed", "ok", "ok", "failed"]
        assert report[0].value is not None and report[0].value.reconciled
        assert report[0].value.sms_activity_id is not None
        assert "not applied" in (report[1].reason or "")
        assert report[2].value is not None and not report[2].value.reconciled
        assert report[3].value is not None and report[3].value.reconciled
        assert "destination is required" in (report[4].reason or "")
        ids = {r.value.sms_activity_id for r in report if r.value}
        assert len(ids) == 3  # the earlier identical SMS was never attributed to item 0


async def test_a_lost_sms_stays_unknown_when_the_records_cannot_be_read() -> None:
    faults = FaultSettings(
        script={
            "SMS.sendSms": ("drop",),
            "SMS.getSmsData": ("ok", "500", "500", "500", "500", "500"),
        }
    )
    async with run_emulator(calls=5, seed=3, faults=faults) as emulator:
        async with quick(emulator.client(max_retries=0)) as client:
            client._transport.policy.base_delay = 0.0
            # getSmsHistory answers too, but without ids it cannot prove an absence.
            report = await Bulk(client).send_sms([sms(7)], settle=0)
            assert report[0].status == "ok"  # found through getSmsHistory
            emulator.set_faults(
                FaultSettings(
                    script={
                        "SMS.sendSms": ("500",),
                        "SMS.getSmsData": ("ok", "500"),
                    }
                )
            )
            report = await Bulk(client).send_sms([sms(8)], settle=0)
        # A 500 on a send is an unknown outcome to the client; history shows nothing.
        assert report[0].status == "unknown"
        assert "still unknown" in (report[0].reason or "")


async def test_lost_calls_are_found_in_call_data_or_stay_unknown() -> None:
    faults = FaultSettings(script={"Calling.initiateCall": ("drop", "500", "ok")})
    async with run_emulator(calls=5, seed=3, faults=faults) as emulator:
        links = [link for link in emulator.state.links.values() if link.rule_template]
        link_id = links[0].link_id
        async with quick(emulator.client()) as client:
            calls = [
                {"link_id": link_id, "call_variables": {"call_destination": "447700900111"}},
                {"link_id": link_id, "call_variables": {"call_destination": "447700900222"}},
                {"link_id": link_id, "call_variables": {"call_destination": "447700900111"}},
                {"link_id": link_id, "colour": "red"},
            ]
            report = await Bulk(client).initiate_calls(calls, concurrency=1)
        assert emulator.requests("Calling.initiateCall") == 3
        assert [r.status for r in report] == ["ok", "unknown", "ok", "failed"]
        first = report[0].value
        assert first is not None and first.reconciled and first.call_id
        assert "a call is recorded only once it has ended" in (report[1].reason or "")
        assert "unknown field(s) colour" in (report[3].reason or "")
