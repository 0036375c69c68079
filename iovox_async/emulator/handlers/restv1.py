"""The REST v1 platform's ``calls/insights``, answered from the emulator's call records.

The real endpoint lives at ``https://{sandbox-}rest.iovox.com/rest/v1/calls/insights``;
the emulator serves it on its own port under ``/rest/v1``. Documented (the
insights page, cut after ``link_id``): the parameters ``page``, ``limit`` (default
10000, max 20000), ``order`` (full field name + ``_ASC``/``_DESC``, default
``call_start_DESC``), ``start_date``/``end_date`` (``YYYY-MM-DD[ HH:MM:SS]``,
default the current month), ``date_constant`` (``YESTERDAY``), ``id`` (comma
separated), ``node_id``, ``node_name``, ``node_type``, ``link_id``, and the same
credential headers as v3.

Guesses, marked because the page shows no response or error:
- the answer is JSON: ``{"current_page", "total_pages", "total_results", "results": [...]}``
  with the v3 paging envelope's names, numbers as JSON numbers, one object per call
  keyed by getCallData's full field names (no insight fields are invented);
- errors use v3's XML error body and v3's message texts (``Page Number not an
  integer``, ``Limit must be between 1 and 20000``, ``Order Field Invalid``, ...);
- ``date_constant`` is optional (the page marks it mandatory, which contradicts the
  start/end defaults).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence

from ..calldata import FIELDS, INDEX, NUMERIC, Row
from ..protocol import JSON_CONTENT_TYPE, ApiError, Reply
from ..state import State

PREFIX = "/rest/v1"
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 20_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$")
_EXACT_FILTERS = ("node_id", "node_name", "node_type", "link_id")


def _one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name)
    value = values[0].strip() if values else ""
    return value or None


def _moment(text: str, label: str, time_default: str) -> str:
    text = text.replace("T", " ")
    if not _DATE.match(text):
        raise ApiError(f"{label} Invalid")
    try:
        dt.datetime.strptime(text[:10], "%Y-%m-%d")
    except ValueError:
        raise ApiError(f"{label} Invalid") from None
    if len(text) == 10:
        return f"{text} {time_default}"
    return text if len(text) == 19 else f"{text}:{time_default[-2:]}"


def _window(state: State, query: Mapping[str, Sequence[str]]) -> tuple[str, str]:
    now = state.now()
    constant = _one(query, "date_constant")
    if constant is not None:
        if constant.upper() != "YESTERDAY":
            raise ApiError("Date Constant Invalid")
        day = (now - dt.timedelta(days=1)).strftime("%Y-%m-%d")
        return f"{day} 00:00:00", f"{day} 23:59:59"
    start, end = _one(query, "start_date"), _one(query, "end_date")
    return (
        _moment(start, "Start Date", "00:00:00") if start else now.strftime("%Y-%m-01 00:00:00"),
        _moment(end, "End Date", "23:59:59") if end else now.strftime("%Y-%m-%d 23:59:59"),
    )


def _whole(query: Mapping[str, Sequence[str]], name: str, default: int, error: str) -> int:
    text = _one(query, name)
    if text is None:
        return default
    if not text.isdigit():
        raise ApiError(error)
    return int(text)


def _order(query: Mapping[str, Sequence[str]]) -> tuple[str, bool]:
    field, _, direction = (_one(query, "order") or "call_start_DESC").rpartition("_")
    if field not in INDEX:
        raise ApiError("Order Field Invalid")
    if direction.upper() not in ("ASC", "DESC"):
        raise ApiError("Order Direction Invalid")
    return field, direction.upper() == "DESC"


def _as_json(row: Row) -> dict[str, object]:
    return {
        name: (int(value) if name in NUMERIC and value.isdigit() else value or None)
        for name, value in zip(FIELDS, row, strict=True)
    }


def calls_insights(state: State, query: Mapping[str, Sequence[str]]) -> Reply:
    """One page of call records in the window, filtered and ordered as asked."""
    page = _whole(query, "page", 1, "Page Number not an integer")
    limit = _whole(query, "limit", DEFAULT_LIMIT, "Limit not an integer")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(f"Limit must be between 1 and {MAX_LIMIT}")
    if page < 1:
        raise ApiError("Page Number not an integer")
    start, end = _window(state, query)
    rows = state.call_store.query(start, end, {}, None, _order(query))
    wanted_ids = {item.strip() for item in (_one(query, "id") or "").split(",") if item.strip()}
    if wanted_ids:
        rows = [row for row in rows if row[INDEX["id"]] in wanted_ids]
    for name in _EXACT_FILTERS:
        value = _one(query, name)
        if value is not None:
            rows = [row for row in rows if row[INDEX[name]] == value]
    chosen = rows[(page - 1) * limit : page * limit]
    body = {
        "current_page": page,
        "total_pages": max(1, math.ceil(len(rows) / limit)),
        "total_results": len(rows),
        "results": [_as_json(row) for row in chosen],
    }
    return Reply(200, json.dumps(body).encode("utf-8"), JSON_CONTENT_TYPE)


ENDPOINTS = {("GET", "calls/insights"): calls_insights}


def answer(state: State, verb: str, path: str, query: Mapping[str, Sequence[str]]) -> Reply:
    """Answer a request under :data:`PREFIX` (credentials already checked)."""
    route = path[len(PREFIX) :].strip("/")
    handler = ENDPOINTS.get((verb, route))
    if handler is None:
        if any(known == route for _, known in ENDPOINTS):
            raise ApiError(f"Request Method must be GET. {verb} attempted")
        raise ApiError(f"Endpoint does not exist: {route}", status=404)
    return handler(state, query)
