"""A dry-run purchase looks each item's region up and says what the real run would fail on."""

from __future__ import annotations

from iovox_async.testing import run_emulator

GOOD = {"country_code": 44, "area_code": "020", "number_type": "GEOGRAPHIC", "quantity": 2}
NOT_OFFERED = {"country_code": 44, "area_code": "999", "number_type": "GEOGRAPHIC", "quantity": 1}
NEEDS_INFO = {"country_code": 33, "area_code": "1", "number_type": "GEOGRAPHIC", "quantity": 1}


async def test_a_dry_run_checks_availability_and_buys_nothing() -> None:
    async with run_emulator(calls=0) as emulator, emulator.client() as iovox:
        report = await iovox.bulk.purchase_numbers([GOOD, NOT_OFFERED, NEEDS_INFO], dry_run=True)
        assert [r.status for r in report] == ["skipped", "failed", "failed"]
        assert report[0].reason == "dry run: would buy 2 GEOGRAPHIC numbers in +44 020"
        assert report[1].reason.endswith(
            "the real run would fail: getVoxnumberRegions offers no GEOGRAPHIC numbers in +44 999"
        )
        assert "numbers in +33 1 need additional_information" in report[2].reason
        assert emulator.requests("Purchase.getVoxnumberRegions") == 3
        assert emulator.requests("Purchase.purchaseVoxNumbers") == 0
        # what the dry run said is what the real run meets
        real = await iovox.bulk.purchase_numbers([NOT_OFFERED])
        assert real[0].status == "failed" and "is not correct" in real[0].reason
