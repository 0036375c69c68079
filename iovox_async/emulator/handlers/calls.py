"""Calls: call data (fast path), metrics, recordings, transcription requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..audio import recording_bytes
from ..calldata import (
    ABBREVIATIONS,
    FILTERS,
    INDEX,
    METRIC_NAMES,
    Selection,
    json_rows,
    metrics,
    render_xml_rows,
)
from ..protocol import (
    JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    Reply,
    render_json_page,
    render_xml_page,
)
from ..state import State
from .base import Context, fail, handles, text_of

_NO_CALL = "The specified Call ID does not exist"
_NO_RECORDING = "The specified call does not have a recording"
VOICEMAIL_RULE = "Leave a message"


def _normalise(value: str, time_default: str) -> str:
    value = value.strip().replace("T", " ")
    if len(value) == 10:
        return f"{value} {time_default}"
    if len(value) == 16:
        return f"{value}:{time_default[-2:]}"
    return value[:19]


def date_window(ctx: Context) -> tuple[str, str]:
    """The ``(start, end)`` texts from sdt/edt/dconst; the current month by default."""
    now = ctx.state.now()
    if (ctx.param("dconst") or "").upper() == "YESTERDAY":
        day = (now - dt.timedelta(days=1)).strftime("%Y-%m-%d")
        return f"{day} 00:00:00", f"{day} 23:59:59"
    sdt, edt = ctx.param("sdt"), ctx.param("edt")
    start = _normalise(sdt, "00:00:00") if sdt else now.strftime("%Y-%m-01 00:00:00")
    end = _normalise(edt, "23:59:59") if edt else now.strftime("%Y-%m-%d 23:59:59")
    return start, end


def category_links(state: State, groups: Sequence[str]) -> frozenset[str]:
    """Links matching any group of comma-separated category ids (all ids of a group).

    A link matches an id when one of its categories is that category or below it.
    """
    wanted_groups = [
        {item.strip() for item in group.split(",") if item.strip()} for group in groups
    ]
    matched: set[str] = set()
    for link in state.links.values():
        reachable: set[str] = set()
        for category_id in link.category_ids:
            reachable.update(category.category_id for category in state.category_path(category_id))
        if any(group and group <= reachable for group in wanted_groups):
            matched.add(link.link_id)
    return frozenset(matched)


def _link_categories(state: State) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    for link in state.links.values():
        entries = []
        for category_id in link.category_ids:
            category = state.categories.get(category_id)
            if category is not None:
                entries.append((category.category_id, category.label, category.value))
        found[link.link_id] = entries
    return found


def _query_rows(
    ctx: Context, filter_names: Sequence[str], order: tuple[str, bool]
) -> list[tuple[str, ...]]:
    start, end = date_window(ctx)
    filters = {name: value for name in filter_names if (value := ctx.param(name)) is not None}
    groups = ctx.params("cat_ids")
    link_ids = category_links(ctx.state, groups) if groups else None
    return ctx.state.call_store.query(start, end, filters, link_ids, order)


@handles("Calls.getCallData")
def get_call_data(ctx: Context) -> Reply:
    """Filtered, ordered, paged call records, rendered straight to text."""
    requested = ctx.order("cs_DESC")
    field = ABBREVIATIONS.get(requested[0]) if requested else None
    order = (field, requested[1]) if field and requested else ("call_start", True)
    rows = _query_rows(ctx, tuple(FILTERS), order)
    page, limit = ctx.page_limit()
    chosen = rows[(page - 1) * limit : page * limit]
    given = ctx.param("req_fields")
    selection = Selection.parse(given.split(",") if given else None)
    categories: dict[str, list[tuple[str, str, str]]] = (
        _link_categories(ctx.state) if selection.categories else {}
    )

    def items(link_id: str) -> list[tuple[str, str, str]]:
        return categories.get(link_id, [])

    if ctx.output == "JSON":
        body = render_json_page(page, limit, len(rows), json_rows(chosen, selection, items))
        return Reply(200, body, JSON_CONTENT_TYPE)
    fragments = render_xml_rows(chosen, selection, items, ctx.state.call_store.dirty)
    return Reply(200, render_xml_page(page, limit, len(rows), fragments), XML_CONTENT_TYPE)


@handles("Calls.getCallMetrics")
def get_call_metrics(ctx: Context) -> Reply:
    """Totals and averages, one result per group of up to two group fields."""
    names = [name for name in FILTERS if name not in ("id", "direction", "call_origin_encoded")]
    rows = _query_rows(ctx, names, ("call_start", False))
    given = ctx.param("req_fields")
    wanted = [item for item in given.split(",") if item] if given else list(METRIC_NAMES)
    group_text = ctx.param("group_fields")
    groups = (
        list(dict.fromkeys(item for item in group_text.split(",") if item)) if group_text else []
    )
    if len(groups) > 2:
        raise fail("Group Fields Invalid")
    start, end = date_window(ctx)
    first = dt.date.fromisoformat(start[:10])
    last = dt.date.fromisoformat(end[:10])
    days = max(1, (last - first).days + 1)
    return ctx.page(metrics(rows, wanted, groups, days))


def _call(ctx: Context, call_id: str | None) -> tuple[str, ...]:
    if not call_id:
        raise fail("Call ID Empty")
    row = ctx.state.call_store.by_id.get(call_id.strip())
    if row is None:
        raise fail(_NO_CALL)
    return row


@handles("Calls.getCallRecording")
def get_call_recording(ctx: Context) -> Reply:
    """The call's MP3 recording: deterministic bytes from the seed and the call id."""
    row = _call(ctx, ctx.param("id"))
    if row[INDEX["has_recording"]] != "1":
        raise fail(_NO_RECORDING)
    data = recording_bytes(ctx.config.seed, row[0], int(row[INDEX["talk_time_sec"]]))
    return ctx.binary(data)


@handles("Calls.getVoicemailRecording")
def get_voicemail_recording(ctx: Context) -> Reply:
    """The voicemail left during a call handled by a voicemail rule."""
    row = _call(ctx, ctx.param("id"))
    if row[INDEX["rule_result"]] != VOICEMAIL_RULE or row[INDEX["talk_time_sec"]] == "0":
        raise fail("The specified call does not have a voicemail")
    data = recording_bytes(ctx.config.seed, f"voicemail-{row[0]}", int(row[INDEX["talk_time_sec"]]))
    return ctx.binary(data)


@handles("Calls.transcribeCallRecording")
def transcribe_call_recording(ctx: Context) -> Reply:
    """Accepts transcription requests for recorded calls (nothing is ever called back)."""
    calls = ctx.items("calls", "call")
    errors = []
    for call in calls:
        call_id = text_of(call.get("id")) if isinstance(call, dict) else text_of(call)
        row = ctx.state.call_store.by_id.get(call_id)
        if row is None:
            errors.append(_NO_CALL)
        elif row[INDEX["has_recording"]] != "1":
            errors.append(_NO_RECORDING)
    if errors:
        raise fail(*errors)
    # No API method reads transcriptions back; the admin state counts them.
    ctx.state.transcriptions.extend(
        text_of(call.get("id")) if isinstance(call, dict) else text_of(call) for call in calls
    )
    # The docs say the request is acknowledged at once with 204 No Content.
    return Reply(204)
