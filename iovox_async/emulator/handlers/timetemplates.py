"""Time templates (Rules): named sets of time frames, listed, created, updated, deleted.

Blocking rules name templates by label, so renaming a template renames it in
those rules, and deleting one that a rule uses needs ``force=TRUE`` (which drops
those rules). Where the docs' error tables are cut the emulator follows the API's
usual wording: "Label x of y already exists", "Label x of y does not exist",
"New Label x of y already exists", "Time From x of y Invalid" (HH:MM, 00:00-23:59).
"""

from __future__ import annotations

import re
from typing import Any

from ..protocol import Reply
from ..state import TimeTemplate
from .base import (
    Context,
    children,
    fail,
    handles,
    list_param,
    select,
    sort_records,
    text_of,
)

TEMPLATE_FIELDS = {"l": "label", "n": "notes", "tf": "time_frames", "c": "created"}
FRAME_FIELDS = ("date_from", "date_to", "recurrence", "time_from", "time_to")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _record(template: TimeTemplate) -> dict[str, Any]:
    frames = [
        {
            **{name: frame.get(name, "") for name in FRAME_FIELDS},
            "days": {"day": _days(frame)},
        }
        for frame in template.frames
    ]
    return {
        "label": template.label,
        "notes": template.notes,
        "created": template.created,
        "time_frames": {"time_frame": frames},
    }


def _days(frame: dict[str, object]) -> list[str]:
    days = frame.get("days")
    return [str(day) for day in days] if isinstance(days, list) else []


@handles("Rules.getTimeTemplates")
def get_time_templates(ctx: Context) -> Reply:
    """Time templates (all, or the one labelled), newest label first by default."""
    wanted = ctx.param("time_template_label")
    templates = [
        template
        for template in ctx.state.time_templates.values()
        if wanted is None or template.label == wanted
    ]
    records = sort_records([_record(t) for t in templates], ctx.order("l_DESC"), TEMPLATE_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, TEMPLATE_FIELDS) for record in records])


def _frames(ctx: Context, item: dict[str, Any], where: str, errors: list[str]) -> list[Any]:
    """The time frames of one payload item, checked."""
    frames = []
    for frame in _frame_items(item):
        record: dict[str, object] = {name: ctx.text(name, frame) for name in FRAME_FIELDS}
        for name in ("time_from", "time_to"):
            value = str(record[name])
            if value and not _CLOCK.match(value):
                errors.append(f"{name.replace('_', ' ').title()} {where} Invalid")
        record["days"] = [text_of(day).upper() for day in children(frame.get("days"), "day")]
        frames.append(record)
    return frames


def _frame_items(item: dict[str, Any]) -> list[dict[str, Any]]:
    frames = children(item.get("time_frames"), "time_frame")
    return [frame for frame in frames if isinstance(frame, dict)]


def _template_items(ctx: Context) -> list[dict[str, Any]]:
    return [item for item in ctx.items("time_template") if isinstance(item, dict)]


@handles("Rules.createTimeTemplates")
def create_time_templates(ctx: Context) -> Reply:
    """Create templates; labels are unique in the account."""
    items = _template_items(ctx)
    errors: list[str] = []
    seen: set[str] = set()
    planned = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        label = ctx.text("label", item)
        if label in ctx.state.time_templates or label in seen:
            errors.append(f"Label {where} already exists")
        seen.add(label)
        planned.append(TimeTemplate(label, _frames(ctx, item, where, errors)))
    if errors:
        raise fail(*errors)
    for template in planned:
        template.created = ctx.now()
        ctx.state.time_templates[template.label] = template
    return ctx.done()


@handles("Rules.updateTimeTemplates")
def update_time_templates(ctx: Context) -> Reply:
    """Replace the frames of templates, renaming those given a ``new_label``."""
    state = ctx.state
    items = _template_items(ctx)
    errors: list[str] = []
    changes = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        label, new_label = ctx.text("label", item), ctx.text("new_label", item)
        if label not in state.time_templates:
            errors.append(f"Label {where} does not exist")
        if new_label and new_label != label and new_label in state.time_templates:
            errors.append(f"New Label {where} already exists")
        changes.append((label, new_label or label, _frames(ctx, item, where, errors)))
    if errors:
        raise fail(*errors)
    for label, new_label, frames in changes:
        template = state.time_templates.pop(label)
        template.label, template.frames = new_label, frames
        state.time_templates[new_label] = template
        for blocked in state.blocked_numbers.values():
            for rule in blocked.rules:
                if rule.time_template == label:
                    rule.time_template = new_label
    return ctx.done()


@handles("Rules.deleteTimeTemplates")
def delete_time_templates(ctx: Context) -> Reply:
    """Delete templates; one used by a blocking rule needs ``force=TRUE`` (the rule goes)."""
    state = ctx.state
    labels = list_param(ctx, "time_template_labels")
    force = ctx.flag("force")
    errors = []
    for position, label in enumerate(labels, start=1):
        if label not in state.time_templates:
            errors.append(
                ctx.error("time_template_label x of y does not exist", position, len(labels))
            )
            continue
        users = [b.number for b in state.blocked_numbers.values() if _uses(b.rules, label)]
        if users and not force:
            errors.append(
                ctx.error(
                    "This time template is used by a blocking rule you can force the deletion "
                    "by using force as TRUE. Blocking rule numbers are X",
                    ",".join(users),
                )
            )
    if errors:
        raise fail(*errors)
    for label in labels:
        state.time_templates.pop(label, None)
        for blocked in state.blocked_numbers.values():
            blocked.rules = [rule for rule in blocked.rules if rule.time_template != label]
    return ctx.done()


def _uses(rules: list[Any], label: str) -> bool:
    return any(rule.time_template == label for rule in rules)
