"""Settle purchases whose answer was lost, from the account's own records.

Two sources, both read-only: ``getVoxnumbers`` (every number on the account,
compared with a list taken before the batch) and ``getOrderDetails`` (the recent
orders, compared with the references seen before and answered during the batch).
The order list is best effort: its parameters are not publicly documented, so when
it cannot be read the number comparison decides alone.

Only presence settles an item: a new matching order or new numbers make it ``ok``
(applied). Absence never makes it ``failed``: an accepted order may only show up
later, so such an item stays ``unknown``, with a reason that says what was checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .report import BulkReport, describe

if TYPE_CHECKING:
    from .._client import AsyncIovox
    from .numbers import Purchase

_LIST_LIMIT = 20000


def as_list(value: Any) -> list[Any]:
    """An element that may be missing, single or repeated, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rows(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = answer.get("results")
    rows = results.get("result") if isinstance(results, dict) else None
    return [row for row in as_list(rows) if isinstance(row, dict)]


@dataclass
class Snapshot:
    """What the account held at one moment (``orders`` is None when unreadable)."""

    numbers: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] | None = None


async def account_numbers(client: AsyncIovox) -> set[str]:
    """Every VoxNumber on the account (``getVoxnumbers``, all pages)."""
    numbers: set[str] = set()
    page = 1
    while True:
        answer = await client.voxnumbers.get_voxnumbers(page=page, limit=_LIST_LIMIT)
        rows = _rows(answer)
        numbers.update(str(row["voxnumber"]).strip() for row in rows if row.get("voxnumber"))
        try:
            pages = int(answer.get("total_pages") or 1)
        except (TypeError, ValueError):
            pages = 1
        if page >= pages or not rows:
            return numbers
        page += 1


async def recent_orders(client: AsyncIovox) -> dict[str, dict[str, Any]] | None:
    """Recent orders by reference (``getOrderDetails``), or None if unreadable."""
    try:
        answer = cast("dict[str, Any]", await client.purchase.get_order_details())
    except Exception:
        return None
    rows = _rows(answer) or ([answer] if answer.get("order_reference") else [])
    return {str(row["order_reference"]): row for row in rows if row.get("order_reference")}


async def snapshot(client: AsyncIovox) -> Snapshot:
    """Numbers (required) and orders (best effort) before a purchase batch."""
    return Snapshot(await account_numbers(client), await recent_orders(client))


def order_numbers(order: Mapping[str, Any]) -> list[str]:
    container = order.get("voxnumbers")
    entries = container.get("voxnumber") if isinstance(container, dict) else None
    numbers = []
    for entry in as_list(entries):
        number = entry.get("full_voxnumber") if isinstance(entry, dict) else entry
        if number:
            numbers.append(str(number).strip())
    return numbers


def _prefix(item: Mapping[str, Any]) -> str:
    prefix = str(item.get("country_code", ""))
    if item.get("area_code"):
        prefix += str(item["area_code"]).lstrip("0")
    return prefix


def _order_matches(order: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    container = order.get("items")
    entries = container.get("item") if isinstance(container, dict) else None
    for entry in as_list(entries):
        if not isinstance(entry, dict):
            continue
        same_country = str(entry.get("country_code")) == str(item.get("country_code"))
        same_type = str(entry.get("number_type", "")).upper() == str(item.get("number_type"))
        area = str(item.get("area_code") or "").lstrip("0")
        same_area = not area or str(entry.get("area_code", "")).lstrip("0") == area
        if same_country and same_type and same_area:
            return True
    return False


async def reconcile(client: AsyncIovox, report: BulkReport[Purchase], before: Snapshot) -> None:
    """Settle every ``unknown`` item of a purchase report (see the module docs)."""
    from .numbers import Purchase

    unknown = report.unknown
    if not unknown:
        return
    try:
        after_numbers: set[str] | None = await account_numbers(client)
    except Exception as error:
        after_numbers = None
        numbers_problem = describe(error)
    orders = await recent_orders(client) if before.orders is not None else None
    if after_numbers is None and orders is None:
        for result in unknown:
            result.reason = f"{result.reason}; reconciliation failed: {numbers_problem}"
        return
    known_refs = {p.order_reference for p in report.values() if p.order_reference}
    known_numbers = {number for purchase in report.values() for number in purchase.numbers}
    new_orders = [
        order
        for reference, order in (orders or {}).items()
        if reference not in (before.orders or {}) and reference not in known_refs
    ]
    fresh = sorted((after_numbers or set()) - before.numbers - known_numbers)
    for result in unknown:
        item: dict[str, Any] = result.item
        order = next((o for o in new_orders if _order_matches(o, item)), None)
        if order is not None:
            new_orders.remove(order)
            numbers = order_numbers(order)
            fresh = [number for number in fresh if number not in numbers]
            status = str(order.get("order_status") or "")
            result.status, result.value = (
                "ok",
                Purchase(
                    item, numbers, str(order["order_reference"]), status or None, reconciled=True
                ),
            )
            result.reason = (
                f"the outcome was unknown, but getOrderDetails shows order"
                f" {order['order_reference']} ({status or 'no status'}): applied"
            )
            continue
        prefix = _prefix(item)
        mine = [number for number in fresh if number.startswith(prefix)]
        mine = mine[: int(item.get("quantity") or 0)]
        fresh = [number for number in fresh if number not in mine]
        if mine:
            result.status, result.value = "ok", Purchase(item, mine, reconciled=True)
            result.reason = (
                f"the outcome was unknown, but getVoxnumbers shows {len(mine)} new matching"
                " number(s): applied"
            )
        elif after_numbers is not None:
            # Absence proves nothing: an accepted order can wait for stock, or reach
            # the order list later, so the item stays unknown rather than "failed".
            seen = "getVoxnumbers" + (
                " and getOrderDetails show" if orders is not None else " shows"
            )
            unread = "" if orders is not None else " (getOrderDetails could not be read)"
            result.reason = (
                f"{result.reason}; {seen} no new matching order or number yet{unread}, but an"
                " accepted order can appear later: still unknown, check the account's orders"
                " before buying again"
            )
        else:
            result.reason = f"{result.reason}; reconciliation failed: {numbers_problem}"


__all__ = ["Snapshot", "account_numbers", "recent_orders", "reconcile", "snapshot"]
