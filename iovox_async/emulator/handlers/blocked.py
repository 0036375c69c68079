"""Blocked numbers (Rules): block/allow rules with per-link and time-template exceptions.

A blocked number is identified by ``(number, in_or_out, operator)``. Answers write
``in_or_out`` in lower case, as the docs' example does; requests may use either
case. Where the docs' tables are cut the emulator follows the API's usual wording:
"Blocked Number x of y already exists", "Link ID x of y does not exist" and
"Time Template x of y does not exist" (x of y: the blocked number in the request).
In ``deleteBlockedNumbers``' "z of x of y Empty", z is the part's label (Number,
In Or Out, Operator), as in the sibling "Combination of Number, In Or Out and
Operator" message.
"""

from __future__ import annotations

from typing import Any

from ..protocol import Reply
from ..state import BlockedNumber, BlockingRule
from .base import Context, children, fail, handles, list_param, select, sort_records, text_of

BLOCKED_FIELDS = {"no": "number", "ioo": "in_or_out", "op": "operator", "nn": "notes"}
PARTS = ("Number", "In Or Out", "Operator")


def _record(blocked: BlockedNumber, fields: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "number": blocked.number,
        "in_or_out": blocked.in_or_out.lower(),
        "operator": blocked.operator,
        "notes": blocked.notes,
    }
    chosen = select(record, fields, BLOCKED_FIELDS)
    if "rules" in fields:
        chosen["default"] = blocked.default
        chosen["rules"] = {
            "rule": [
                {
                    "links": {"link_id": list(rule.link_ids)},
                    "time_template": rule.time_template,
                    "blocking_type": rule.blocking_type,
                }
                for rule in blocked.rules
            ]
        }
    return chosen


@handles("Rules.getBlockedNumbers")
def get_blocked_numbers(ctx: Context) -> Reply:
    """Blocked numbers, filtered by number, operator and direction (``rules`` on request)."""
    rows = list(ctx.state.blocked_numbers.values())
    number = ctx.param("number")
    if number is not None:
        rows = [row for row in rows if row.number == number]
        if not rows:
            raise fail(ctx.error("Number does not exist"))
    for name in ("operator", "in_or_out"):
        wanted = ctx.param(name)
        if wanted is not None:
            rows = [row for row in rows if getattr(row, name).upper() == wanted.upper()]
    fields = ctx.req_fields()
    records = sort_records(
        [{**_record(row, [*BLOCKED_FIELDS]), "_row": row} for row in rows],
        ctx.order("no_ASC"),
        BLOCKED_FIELDS,
    )
    return ctx.page([_record(record["_row"], fields) for record in records])


def _items(ctx: Context) -> list[dict[str, Any]]:
    return [item for item in ctx.items("blocked_number") if isinstance(item, dict)]


def _rules(
    ctx: Context, item: dict[str, Any], links: str, where: str, errors: list[str]
) -> list[BlockingRule]:
    """The rules of one payload item (``links`` names the link list element), checked."""
    rules = []
    for rule in children(item.get("rules"), "rule"):
        if not isinstance(rule, dict):
            continue
        link_ids = [text_of(link) for link in children(rule.get(links), "link_id")]
        if any(link not in ctx.state.links for link in link_ids):
            errors.append(f"Link ID {where} does not exist")
        template = ctx.text("time_template", rule)
        if template and template not in ctx.state.time_templates:
            errors.append(f"Time Template {where} does not exist")
        blocking = ctx.text("blocking_type", rule).upper() or "BLOCK"
        rules.append(BlockingRule(blocking, link_ids, template))
    return rules


def _key(ctx: Context, item: dict[str, Any], prefix: str = "") -> tuple[str, str, str]:
    return (
        ctx.text(f"{prefix}number", item),
        ctx.text(f"{prefix}in_or_out", item).upper(),
        ctx.text(f"{prefix}operator", item).upper(),
    )


@handles("Rules.createBlockedNumbers")
def create_blocked_numbers(ctx: Context) -> Reply:
    """Create blocked numbers; each (number, in_or_out, operator) at most once."""
    items = _items(ctx)
    errors: list[str] = []
    planned: dict[tuple[str, str, str], BlockedNumber] = {}
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        key = _key(ctx, item)
        if key in ctx.state.blocked_numbers or key in planned:
            errors.append(f"Blocked Number {where} already exists")
        rules = _rules(ctx, item, "link_ids", where, errors)
        planned[key] = BlockedNumber(*key, ctx.text("default", item).upper(), rules)
    if errors:
        raise fail(*errors)
    ctx.state.blocked_numbers.update(planned)
    return ctx.done()


@handles("Rules.updateBlockedNumbers")
def update_blocked_numbers(ctx: Context) -> Reply:
    """Re-key, change the default of or replace the rules of blocked numbers.

    A new key that another blocked number holds needs ``if_exist=OVERWRITE``.
    """
    state = ctx.state
    items = _items(ctx)
    errors: list[str] = []
    changes = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        key = _key(ctx, item)
        number, in_or_out, operator = (
            new or old for old, new in zip(key, _key(ctx, item, "new_"), strict=True)
        )
        new_key = (number, in_or_out, operator)
        blocked = state.blocked_numbers.get(key)
        if blocked is None:
            errors.append(f"Blocked Number {where} does not exist")
        overwrite = ctx.text("if_exist", item).upper() == "OVERWRITE"
        if new_key != key and new_key in state.blocked_numbers and not overwrite:
            errors.append(f"Blocked Number {where} already exists")
        rules = _rules(ctx, item, "links", where, errors) if "rules" in item else None
        changes.append((key, new_key, ctx.text("default", item).upper(), rules))
    if errors:
        raise fail(*errors)
    for key, new_key, default, rules in changes:
        blocked = state.blocked_numbers.pop(key)
        blocked.number, blocked.in_or_out, blocked.operator = new_key
        blocked.default = default or blocked.default
        if rules is not None:
            blocked.rules = rules
        state.blocked_numbers[new_key] = blocked
    return ctx.done()


@handles("Rules.deleteBlockedNumbers")
def delete_blocked_numbers(ctx: Context) -> Reply:
    """Delete ``number;in_or_out;operator`` triples."""
    state = ctx.state
    items = list_param(ctx, "blocked_numbers")
    errors = []
    keys = []
    for position, item in enumerate(items, start=1):
        where = (position, len(items))
        parts = [part.strip() for part in item.split(";")]
        parts += [""] * (3 - len(parts))
        blank = [PARTS[index] for index, part in enumerate(parts[:3]) if not part]
        if blank:
            errors += [ctx.error("z of x of y Empty", name, *where) for name in blank]
            continue
        key = (parts[0], parts[1].upper(), parts[2].upper())
        keys.append(key)
        if key in state.blocked_numbers:
            continue
        if not any(number == key[0] for number, _, _ in state.blocked_numbers):
            errors.append(ctx.error("Blocked Number x of y does not exist", *where))
        else:
            errors.append(
                ctx.error(
                    "Combination of Number, In Or Out and Operator in Blocked Number x of y "
                    "does not exist.",
                    *where,
                )
            )
    if errors:
        raise fail(*errors)
    for key in keys:
        state.blocked_numbers.pop(key, None)
    return ctx.done()
