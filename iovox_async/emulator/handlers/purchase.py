"""Purchase: regions in stock, buying numbers (with dynamic_quantity), order details.

Each purchase creates an order with a reference. Without ``dynamic_quantity`` an
item asking for more than the region has in stock is filled as far as possible
and the order stays ``PENDING`` (the API completes such orders later); with it,
the quantity is amended to the stock and the order is ``COMPLETED``.
"""

from __future__ import annotations

from typing import Any

from ..protocol import Reply
from ..state import Order, Region, State, VoxNumber
from .base import Context, fail, handles, select, sort_records, text_of

REGION_FIELDS = {
    "ac": "area_code",
    "cc": "country_code",
    "con": "country_name",
    "stn": "state_name",
    "cin": "city_name",
    "ct": "cost",
}
MAX_CALLBACK_URL = 120


def _region_record(region: Region, fields: list[str]) -> dict[str, Any]:
    record = {
        "area_code": region.area_code,
        "country_code": region.country_code,
        "country_name": region.country_name,
        "state_name": region.state_name,
        "city_name": region.city_name,
        "cost": region.cost,
    }
    chosen = select(record, fields, REGION_FIELDS)
    chosen["require_purchase_info"] = region.require_purchase_info
    return chosen


@handles("Purchase.getVoxnumberRegions", "Purchase.getRegionForNumberType")
def get_voxnumber_regions(ctx: Context) -> Reply:
    """Regions with numbers to buy, filtered by type, country code and area code."""
    number_type = (ctx.param("number_type") or "").upper()
    country_code = ctx.param("country_code")
    area_code = ctx.param("area_code")
    fields = ctx.req_fields() or list(REGION_FIELDS)
    records = [
        _region_record(region, fields)
        for region in ctx.state.regions
        if (not number_type or region.number_type == number_type)
        and (not country_code or region.country_code == country_code)
        and (not area_code or region.area_code == area_code.lstrip("0"))
        and region.stock > 0
    ]
    return ctx.page(records)


def _match_region(state: State, item: dict[str, Any]) -> Region | None:
    country_code = text_of(item.get("country_code"))
    number_type = text_of(item.get("number_type")).upper()
    area_code = text_of(item.get("area_code")).lstrip("0")
    post_code = text_of(item.get("post_code")).upper().replace(" ", "")
    for region in state.regions:
        if region.country_code != country_code or region.number_type != number_type:
            continue
        if area_code and region.area_code == area_code:
            return region
        if (
            not area_code
            and post_code
            and any(post_code.startswith(code) for code in region.postcodes)
        ):
            return region
    return None


def buy_number(state: State, region: Region, reference: str, when: str) -> VoxNumber:
    """Take one number of the region's stock into the account."""
    number = region.allocate()
    while number in state.voxnumbers or number in state.transferred:
        number = region.allocate()
    region.stock -= 1
    vox = VoxNumber(
        number=number,
        country_code=region.country_code,
        area_code=region.area_code,
        number_type="LOCAL" if region.number_type == "GEOGRAPHIC" else "NATIONAL",
        country_name=region.country_name,
        city_name=region.city_name,
        purchase_date=when,
        order_reference=reference,
    )
    state.voxnumbers[number] = vox
    return vox


@handles("Purchase.purchaseVoxNumbers")
def purchase_vox_numbers(ctx: Context) -> Reply:
    """Buy the basket; answers 201 with the order reference, status and numbers bought."""
    items = ctx.items("items", "item")
    dynamic = ctx.text("dynamic_quantity").upper() == "TRUE"
    callback_url = ctx.text("callback_url")
    errors = []
    if len(callback_url) > MAX_CALLBACK_URL:
        errors.append("Callback URL Invalid")
    planned: list[tuple[Region, int, dict[str, Any]]] = []
    for position, item in enumerate(items, start=1):
        item = item if isinstance(item, dict) else {}
        region = _match_region(ctx.state, item)
        quantity_text = text_of(item.get("quantity"))
        quantity = int(quantity_text) if quantity_text.lstrip("-").isdigit() else 0
        needs_info = region is not None and region.require_purchase_info == "1"
        if (
            region is None
            or quantity < 1
            or (needs_info and not item.get("additional_information"))
        ):
            errors.append(f"Basket Item {position} of {len(items)} is not correct.")
            continue
        planned.append((region, quantity, item))
    if errors:
        raise fail(*errors)
    state = ctx.state
    when = ctx.now()
    reference = f"ORD{state.next_id('order'):07d}"
    bought: list[VoxNumber] = []
    order_items = []
    pending = False
    for region, quantity, _item in planned:
        available = min(quantity, region.stock)
        pending = pending or (available < quantity and not dynamic)
        numbers = [buy_number(state, region, reference, when) for _ in range(available)]
        bought.extend(numbers)
        order_items.append(
            {
                "country_code": region.country_code,
                "area_code": region.area_code,
                "number_type": region.number_type,
                "quantity_requested": str(quantity),
                "quantity": str(available if dynamic else quantity),
                "quantity_fulfilled": str(available),
            }
        )
    order = Order(
        reference=reference,
        status="PENDING" if pending else "COMPLETED",
        created=when,
        items=order_items,
        numbers=[vox.number for vox in bought],
        dynamic_quantity=dynamic,
        callback_url=callback_url,
    )
    state.orders[reference] = order
    return ctx.tree(
        {
            "order_reference": reference,
            "order_status": order.status,
            "voxnumbers": {"voxnumber": [_number_record(vox) for vox in bought]}
            if bought
            else None,
        }
    )


def _number_record(vox: VoxNumber) -> dict[str, str]:
    return {
        "full_voxnumber": vox.number,
        "area_code": vox.area_code,
        "country_code": vox.country_code,
    }


def order_record(state: State, order: Order) -> dict[str, Any]:
    """An order as getOrderDetails shows it."""
    numbers = [state.voxnumbers[number] for number in order.numbers if number in state.voxnumbers]
    return {
        "order_reference": order.reference,
        "order_status": order.status,
        "created": order.created,
        "dynamic_quantity": "TRUE" if order.dynamic_quantity else "FALSE",
        "items": {"item": order.items} if order.items else None,
        "voxnumbers": {"voxnumber": [_number_record(vox) for vox in numbers]} if numbers else None,
    }


@handles("Purchase.getOrderDetails")
def get_order_details(ctx: Context) -> Reply:
    """One order by ``order_reference``, or every order (newest first) to reconcile."""
    reference = ctx.param("order_reference") or ctx.param("reference") or ctx.param("order_id")
    orders = list(ctx.state.orders.values())
    if reference is not None:
        order = ctx.state.orders.get(reference)
        if order is None:
            raise fail("Order Reference does not exist")
        orders = [order]
    records = [order_record(ctx.state, order) for order in orders]
    records = sort_records(records, ("created", True), {"created": "created"})
    return ctx.page(records)
