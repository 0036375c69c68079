"""purchase_numbers: validation, dry run, at-most-once sending and reconciliation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from iovox_async import ValidationError
from iovox_async.bulk import Purchase
from iovox_async.bulk.numbers import bought, describe_item, validate_item

from .conftest import MakeBulk, error, method_of, xml

ITEM = {"country_code": 44, "area_code": "151", "number_type": "GEOGRAPHIC", "quantity": 2}


class FakeAccount:
    """Voxnumbers listing and purchases, with scripted faults per purchase."""

    def __init__(self) -> None:
        self.numbers = ["442070000001", "33140000001"]
        self.next = 1000
        self.purchases: list[bytes] = []
        self.applied = 0
        self.script: list[str] = []
        self.list_fails = False
        self.orders: list[tuple[str, str, str, str, list[str]]] | None = None
        self.stock: int | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        method = method_of(request)
        if method == "getVoxnumbers":
            if self.list_fails:
                return error(400, "Limit not an integer")
            rows = "".join(f"<result><voxnumber>{n}</voxnumber></result>" for n in self.numbers)
            return xml(
                "<response><current_page>1</current_page><total_pages>1</total_pages>"
                f"<total_results>{len(self.numbers)}</total_results><results>{rows}</results>"
                "</response>"
            )
        if method == "getVoxnumberRegions":
            region = "<result><area_code>151</area_code><require_purchase_info>0</require_purchase_info></result>"
            return xml(f"<response><results>{region}</results></response>")
        if method == "getOrderDetails":
            if self.orders is None:
                return error(400, "Order Reference Empty")
            return xml(f"<response><results>{self.order_rows()}</results></response>")
        assert method == "purchaseVoxNumbers" and request.method == "POST"
        self.purchases.append(request.content)
        fault = self.script.pop(0) if self.script else "ok"
        if fault == "500":
            return error(500, "Internal Server Error")
        if fault == "400":
            return error(400, "Basket Item 1 of 1 is not correct.")
        body = request.content.decode()
        country = body.split("<country_code>")[1].split("<")[0]
        area = body.split("<area_code>")[1].split("<")[0] if "<area_code>" in body else ""
        quantity = int(body.split("<quantity>")[1].split("<")[0])
        new = []
        for _ in range(quantity if self.stock is None else min(quantity, self.stock)):
            self.next += 1
            new.append(f"{country}{area}{self.next}")
        self.numbers.extend(new)
        self.applied += 1
        status = "COMPLETED" if len(new) == quantity else "PENDING"
        if self.orders is not None:
            self.orders.insert(0, (f"ORD-{self.applied}", status, country, area, new))
        if fault == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        rows = "".join(
            f"<voxnumber><full_voxnumber>{n}</full_voxnumber><country_code>{country}"
            f"</country_code><area_code>{area}</area_code></voxnumber>"
            for n in new
        )
        return xml(
            f"<response><order_reference>ORD-{self.applied}</order_reference>"
            f"<order_status>{status}</order_status><voxnumbers>{rows}</voxnumbers></response>",
            201,
        )

    def order_rows(self) -> str:
        rows = []
        for reference, status, country, area, numbers in self.orders or []:
            vox = "".join(
                f"<voxnumber><full_voxnumber>{n}</full_voxnumber></voxnumber>" for n in numbers
            )
            rows.append(
                f"<result><order_reference>{reference}</order_reference><order_status>{status}"
                f"</order_status><items><item><country_code>{country}</country_code><area_code>"
                f"{area}</area_code><number_type>GEOGRAPHIC</number_type></item></items>"
                f"<voxnumbers>{vox}</voxnumbers></result>"
            )
        return "".join(rows)


def test_validation() -> None:
    assert validate_item(ITEM) == {**ITEM, "country_code": 44, "quantity": 2}
    assert (
        validate_item({"country_code": "33", "number_type": "TOLLFREE", "quantity": "1"})[
            "quantity"
        ]
        == 1
    )
    bad = [
        ({}, "country_code is required"),
        ({**ITEM, "quantity": 0}, "quantity must be at least 1"),
        ({**ITEM, "quantity": "two"}, "quantity must be digits"),
        ({**ITEM, "number_type": "MOBILE"}, "number_type must be one of"),
        ({**ITEM, "area_code": None}, "needs area_code or post_code"),
        ({**ITEM, "colour": "red"}, "unknown field(s) colour"),
        ("44", "must be a mapping"),
    ]
    for item, message in bad:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
            validate_item(item)
    assert describe_item(ITEM) == "2 GEOGRAPHIC numbers in +44 151"


async def test_dry_run_sends_nothing(make_bulk: MakeBulk) -> None:
    account = FakeAccount()
    _, bulk = make_bulk(account)
    report = await bulk.purchase_numbers([ITEM, {**ITEM, "quantity": -1}], dry_run=True)
    assert [r.status for r in report] == ["skipped", "failed"]
    assert report[0].reason == "dry run: would buy 2 GEOGRAPHIC numbers in +44 151"
    assert account.purchases == []
    with pytest.raises(ValidationError, match="120"):
        await bulk.purchase_numbers([ITEM], callback_url="https://x.test/" + "a" * 120)


async def test_purchases_are_sent_once_each(make_bulk: MakeBulk) -> None:
    account = FakeAccount()
    account.script = ["ok", "400", "500"]
    client, bulk = make_bulk(account)
    items = [ITEM, {**ITEM, "area_code": "161"}, {**ITEM, "area_code": "171", "quantity": 1}]
    report = await bulk.purchase_numbers(items, callback_url="https://cb.test/x")
    assert len(account.purchases) == 3  # never repeated, whatever happened
    assert client.retries_taken == 0
    first = report[0].value
    assert isinstance(first, Purchase)
    assert first.numbers == ["441511001", "441511002"] and first.order_reference == "ORD-1"
    assert not first.reconciled
    assert report[1].status == "failed" and "is not correct" in (report[1].reason or "")
    # The 500 answer means "unknown" to the client. No new number shows, but without
    # the order list a pending order cannot be ruled out: it stays unknown.
    assert report[2].status == "unknown"
    assert "getOrderDetails could not be read" in (report[2].reason or "")
    assert bought(report) == ["441511001", "441511002"]
    assert b"<callback_url>https://cb.test/x</callback_url>" in account.purchases[0]
    json.dumps(report.to_dict())


async def test_a_dropped_answer_is_reconciled_as_bought(make_bulk: MakeBulk) -> None:
    account = FakeAccount()
    account.script = ["drop", "ok", "drop"]
    _, bulk = make_bulk(account)
    items: list[dict[str, Any]] = [
        ITEM,
        {**ITEM, "area_code": "161"},
        {"country_code": 33, "number_type": "TOLLFREE", "quantity": 3},
    ]
    report = await bulk.purchase_numbers(items, concurrency=3)
    assert len(account.purchases) == 3 and account.applied == 3
    assert report.counts == {"ok": 3, "skipped": 0, "failed": 0, "unknown": 0}
    by_item = {r.index: r.value for r in report}
    assert by_item[0] is not None and by_item[0].reconciled
    assert all(n.startswith("44151") for n in by_item[0].numbers) and len(by_item[0].numbers) == 2
    assert by_item[2] is not None and by_item[2].reconciled and len(by_item[2].numbers) == 3
    assert "applied" in (report[0].reason or "")
    assert sorted(bought(report)) == sorted(account.numbers[2:])


async def test_unknown_stays_unknown_when_reconciliation_fails(make_bulk: MakeBulk) -> None:
    account = FakeAccount()
    account.script = ["drop"]
    original = account.__call__

    async def handler(request: httpx.Request) -> httpx.Response:
        if method_of(request) == "getVoxnumbers" and account.purchases:
            account.list_fails = True
        return await original(request)

    _, bulk = make_bulk(handler)
    report = await bulk.purchase_numbers([ITEM])
    assert report[0].status == "unknown"
    assert "reconciliation failed" in (report[0].reason or "")
    assert "get_order_details" in (report[0].reason or "")
    assert len(account.purchases) == 1

    account.script = ["drop"]
    report = await bulk.purchase_numbers([ITEM], reconcile=False)
    assert report[0].status == "unknown" and len(account.purchases) == 2


async def test_a_lost_answer_is_found_in_the_order_list(make_bulk: MakeBulk) -> None:
    account = FakeAccount()
    account.orders = [("ORD-OLD", "COMPLETED", "44", "151", ["441510000001"])]
    account.stock = 0  # accepted, nothing in stock yet: a PENDING order, no numbers
    account.script = ["drop", "ok"]
    _, bulk = make_bulk(account)
    report = await bulk.purchase_numbers([ITEM, {**ITEM, "area_code": "161"}])
    assert account.applied == 2 and len(account.purchases) == 2
    first, second = report[0], report[1]
    assert first.status == "ok" and first.value is not None
    assert first.value.reconciled and first.value.order_reference == "ORD-1"
    assert first.value.order_status == "PENDING" and first.value.numbers == []
    assert "getOrderDetails shows order ORD-1 (PENDING)" in (first.reason or "")
    assert second.value is not None and second.value.order_reference == "ORD-2"
    assert not second.value.reconciled


async def test_still_unknown_when_neither_list_shows_it_yet(make_bulk: MakeBulk) -> None:
    # An accepted order can reach the lists later: absence never proves "not bought".
    account = FakeAccount()
    account.orders = []
    account.script = ["500"]
    _, bulk = make_bulk(account)
    report = await bulk.purchase_numbers([ITEM])
    assert report[0].status == "unknown"
    assert "getVoxnumbers and getOrderDetails show no new matching order or number yet" in (
        report[0].reason or ""
    )
