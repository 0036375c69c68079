"""Voxnumbers: listing, switching calls on and off, releasing and transferring numbers."""

from __future__ import annotations

from typing import Any

from ..protocol import Reply
from ..state import State, VoxNumber
from ..validation import is_integer
from .base import Context, fail, handles, select, sort_records, text_of

NUMBER_FIELDS = {
    "nid": "node_id",
    "nname": "node_name",
    "lid": "link_id",
    "lname": "link_name",
    "as": "assigned_status",
    "cs": "call_status",
    "cc": "country_code",
    "vn": "voxnumber",
    "vnt": "voxnumber_type",
    "vnco": "voxnumber_country",
    "vnci": "voxnumber_city",
    "vnpd": "purchase_date",
}
MAX_DELETE = 100


def number_record(state: State, vox: VoxNumber) -> dict[str, str]:
    """Every field getVoxnumbers can show for a number."""
    link = state.links.get(vox.link_id) if vox.link_id else None
    node = state.nodes.get(link.node_id) if link else None
    return {
        "node_id": node.node_id if node else "",
        "node_name": node.node_name if node else "",
        "link_id": link.link_id if link else "",
        "link_name": link.link_name if link else "",
        "assigned_status": "ASSIGNED" if link else "UNASSIGNED",
        "call_status": state.call_status(vox),
        "country_code": vox.country_code,
        "voxnumber": vox.number,
        "voxnumber_type": vox.number_type,
        "voxnumber_country": vox.country_name,
        "voxnumber_city": vox.city_name,
        "purchase_date": vox.purchase_date,
    }


def _matches(record: dict[str, str], ctx: Context) -> bool:
    checks = {
        "voxnumber": "voxnumber",
        "voxnumber_type": "voxnumber_type",
        "voxnumber_country": "voxnumber_country",
        "voxnumber_city": "voxnumber_city",
        "assigned_status": "assigned_status",
        "node_id": "node_id",
        "link_id": "link_id",
    }
    for param, field in checks.items():
        wanted = ctx.param(param)
        if wanted is not None and record[field].upper() != wanted.upper():
            return False
    status = (ctx.param("call_status") or "").upper()
    if status == "ON":
        return record["call_status"] in ("ACTIVE", "NO RULES")
    return not status or record["call_status"] == status


@handles("Voxnumbers.getVoxnumbers")
def get_voxnumbers(ctx: Context) -> Reply:
    """The account's numbers with their link, node and call status."""
    records = [number_record(ctx.state, vox) for vox in ctx.state.voxnumbers.values()]
    records = [record for record in records if _matches(record, ctx)]
    records.sort(key=lambda record: record["voxnumber"])
    records = sort_records(records, ctx.order(), NUMBER_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, NUMBER_FIELDS) for record in records])


def _numbers_in(ctx: Context, *path: str) -> list[str]:
    return [text_of(item) for item in ctx.items(*path)]


@handles("Voxnumbers.setCallStatus")
def set_call_status(ctx: Context) -> Reply:
    """Suspend (OFF) or resume (ON) numbers; only numbers attached to a link."""
    numbers = _numbers_in(ctx, "voxnumbers", "voxnumber")
    if not numbers:
        raise fail("VoxNumbers Empty")
    errors = []
    for position, number in enumerate(numbers, start=1):
        vox = ctx.state.voxnumbers.get(number)
        where = f"{position} of {len(numbers)}"
        if vox is None:
            errors.append(f"VoxNumber {where} does not exist")
        elif vox.link_id is None:
            errors.append(f"VoxNumber {where} is not attached to a Link")
    if errors:
        raise fail(*errors)
    suspended = ctx.text("call_status").upper() == "OFF"
    for number in numbers:
        ctx.state.voxnumbers[number].suspended = suspended
    return ctx.done()


@handles("Voxnumbers.deleteVoxnumbersFromAccount")
def delete_voxnumbers(ctx: Context) -> Reply:
    """Release numbers from the account (detaching them first with rm_if_in_use=TRUE)."""
    raw = ctx.param("full_voxnumbers") or ""
    numbers = [item.strip() for item in raw.split(",")]
    if len(numbers) > MAX_DELETE:
        raise fail("You can only remove a maximum of 100 VoxNumbers in a single request")
    detach = ctx.flag("rm_if_in_use")
    errors = []
    for position, number in enumerate(numbers, start=1):
        where = f"{position} of {len(numbers)}"
        vox = ctx.state.voxnumbers.get(number)
        if not number:
            errors.append(f"VoxNumber {where} Empty")
        elif not is_integer(number):
            continue  # already reported by the generic validation
        elif vox is None:
            errors.append(f"VoxNumber {where} does not exists")
        elif vox.link_id is not None and not detach:
            errors.append(f"VoxNumber {where} is attached to a Link")
    if errors:
        raise fail(*errors)
    for number in numbers:
        ctx.state.detach_number(number)
        ctx.state.voxnumbers.pop(number, None)
    return ctx.done()


@handles("Voxnumbers.transferVoxnumbers")
def transfer_voxnumbers(ctx: Context) -> Reply:
    """Give numbers not attached to a link to another partner account."""
    state = ctx.state
    origin = ctx.text("origin_partner_name")
    destination = ctx.text("destination_partner_name")
    errors = []
    if origin and origin != state.partner_name:
        errors.append("Origin Partner Name does not exist")
    if destination and (destination not in state.partners or destination == state.partner_name):
        errors.append("Destination Partner Name does not exist")
    numbers = _numbers_in(ctx, "voxnumbers", "voxnumber")
    if not numbers:
        errors.append("voxnumbers is empty")
    for position, number in enumerate(numbers, start=1):
        where = f"{position} of {len(numbers)}"
        vox: Any = state.voxnumbers.get(number)
        if not number:
            errors.append(f"voxnumber {where} is empty")
        elif number.startswith(("0", "+")):
            errors.append(f"voxnumber {where} is not in a international format")
        elif vox is None:
            errors.append(f"voxnumber {where} does not exist")
        elif vox.link_id is not None:
            errors.append(f"voxnumber {where} is not available")
    if errors:
        raise fail(*errors)
    for number in numbers:
        state.voxnumbers.pop(number)
        state.transferred[number] = destination
    return ctx.done()
