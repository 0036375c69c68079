"""Call detail records: compact rows, fast filtering and paging, string-built rendering.

Rows are tuples of strings in :data:`FIELDS` order, kept sorted by call start.
Datetimes are ``YYYY-MM-DD HH:MM:SS`` text, so a date window is a string
comparison. A page is rendered with one format string per field selection, never
through per-row element objects: the benchmarks page through tens of thousands of
rows.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from operator import itemgetter
from typing import Any
from xml.sax.saxutils import escape

FIELDS: tuple[str, ...] = (
    "id",
    "call_start",
    "call_end",
    "call_origin",
    "call_origin_encoded",
    "call_origin_location",
    "voxnumber",
    "call_destination",
    "detail",
    "call_time",
    "call_time_sec",
    "talk_time",
    "talk_time_sec",
    "call_type",
    "call_result",
    "rule_result",
    "node_id",
    "node_name",
    "node_type",
    "link_id",
    "link_name",
    "link_type",
    "has_recording",
    "email_sent",
    "direction",
)
INDEX = {name: position for position, name in enumerate(FIELDS)}

ABBREVIATIONS: dict[str, str] = {
    "id": "id",
    "cs": "call_start",
    "ce": "call_end",
    "co": "call_origin",
    "coe": "call_origin_encoded",
    "col": "call_origin_location",
    "vn": "voxnumber",
    "cd": "call_destination",
    "detail": "detail",
    "ct": "call_time",
    "cts": "call_time_sec",
    "tt": "talk_time",
    "tts": "talk_time_sec",
    "ctype": "call_type",
    "call_res": "call_result",
    "rule_res": "rule_result",
    "nid": "node_id",
    "nname": "node_name",
    "ntype": "node_type",
    "lid": "link_id",
    "lname": "link_name",
    "ltype": "link_type",
    "has_rec": "has_recording",
    "es": "email_sent",
    "direction": "direction",
}
CATEGORY_GROUPS: dict[str, tuple[str, str]] = {
    "cat": ("categories", "category"),
    "call_cat": ("call_categories", "call_category"),
    "node_cat": ("node_categories", "node_category"),
    "contact_cat": ("contact_categories", "contact_category"),
}
CATEGORY_PARTS = {"id": "category_id", "lbl": "label", "v": "value"}
_PART_ORDER = ("category_id", "label", "value")
NUMERIC = frozenset({"id", "call_time_sec", "talk_time_sec"})
TEXT_FIELDS = frozenset(
    {
        "call_origin_location",
        "detail",
        "rule_result",
        "node_name",
        "node_type",
        "link_name",
        "link_type",
    }
)

FILTERS: dict[str, str] = {
    "id": "id",
    "node_id": "node_id",
    "node_type": "node_type",
    "link_id": "link_id",
    "link_type": "link_type",
    "ctype": "call_type",
    "call_res": "call_result",
    "rule_res": "rule_result",
    "call_origin": "call_origin",
    "call_origin_encoded": "call_origin_encoded",
    "voxnumber": "voxnumber",
    "call_dest": "call_destination",
    "direction": "direction",
    "detail": "detail",
}
"""getCallData query parameter -> field it matches exactly."""

Row = tuple[str, ...]
CategoryItems = Callable[[str], Sequence[tuple[str, str, str]]]
"""link_id -> (category_id, label, value) of the link's categories."""


def hms(seconds: int) -> str:
    """Seconds as ``HH:MM:SS``."""
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class Selection:
    """Which fields and category parts one request asked for."""

    def __init__(self, fields: Sequence[str], categories: Mapping[str, Sequence[str]]) -> None:
        self.fields = tuple(fields)
        self.categories = {group: tuple(parts) for group, parts in categories.items() if parts}
        positions = [INDEX[name] for name in self.fields]
        self.getter: Callable[[Row], tuple[str, ...]] = (
            (itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],)))
            if positions
            else (lambda row: ())
        )
        self.escape_at = tuple(i for i, name in enumerate(self.fields) if name in TEXT_FIELDS)
        self.template = "".join(f"<{name}>%s</{name}>" for name in self.fields)
        self.everything = self.fields == FIELDS

    @classmethod
    def parse(cls, abbreviations: Iterable[str] | None) -> Selection:
        """From req_fields abbreviations (validated already); ``None`` = every plain field."""
        if abbreviations is None:
            return cls(FIELDS, {})
        fields: list[str] = []
        categories: dict[str, list[str]] = {}
        for abbreviation in abbreviations:
            if abbreviation in ABBREVIATIONS:
                name = ABBREVIATIONS[abbreviation]
                if name not in fields:
                    fields.append(name)
                continue
            group, _, part = abbreviation.rpartition("_")
            if group in CATEGORY_GROUPS and part in CATEGORY_PARTS:
                parts = categories.setdefault(group, [])
                if CATEGORY_PARTS[part] not in parts:
                    parts.append(CATEGORY_PARTS[part])
        fields.sort(key=INDEX.__getitem__)
        return cls(fields, categories)

    def values(self, row: Row) -> list[str]:
        """The selected values of a row, XML-escaped where text may need it."""
        values = list(self.getter(row))
        for position in self.escape_at:
            values[position] = escape(values[position])
        return values


_TEXT_POSITIONS = tuple(INDEX[name] for name in sorted(TEXT_FIELDS))


def _needs_escape(row: Row) -> bool:
    return any(
        "&" in row[position] or "<" in row[position] or ">" in row[position]
        for position in _TEXT_POSITIONS
    )


class CallStore:
    """Every call record, sorted by call start (then id)."""

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self.rows: list[Row] = sorted(rows, key=lambda row: (row[1], int(row[0])))
        self._starts = [row[1] for row in self.rows]
        self.by_id: dict[str, Row] = {row[0]: row for row in self.rows}
        self.dirty: set[str] = {row[0] for row in self.rows if _needs_escape(row)}
        """Ids of rows with text that must be XML-escaped."""
        self.version = 0
        self._cache: OrderedDict[tuple[object, ...], list[Row]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: Row) -> None:
        """Insert a new call in call-start order."""
        position = bisect.bisect_right(self._starts, row[1])
        self.rows.insert(position, row)
        self._starts.insert(position, row[1])
        self.by_id[row[0]] = row
        if _needs_escape(row):
            self.dirty.add(row[0])
        self.version += 1
        self._cache.clear()

    def next_id(self) -> str:
        """An id above every existing one."""
        return str(max((int(key) for key in self.by_id), default=1_000_000) + 1)

    def query(
        self,
        start: str,
        end: str,
        filters: Mapping[str, str],
        link_ids: frozenset[str] | None,
        order: tuple[str, bool],
    ) -> list[Row]:
        """Rows with ``start <= call_start <= end`` matching every filter, in ``order``.

        ``order`` is ``(field, descending)``. Results are cached per query until a
        call is added, so paging through one query filters only once.
        """
        key = (start, end, tuple(sorted(filters.items())), link_ids, order)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_right(self._starts, end)
        rows = self.rows[low:high]
        for name, wanted in filters.items():
            position = INDEX[FILTERS[name]]
            rows = [row for row in rows if row[position] == wanted]
        if link_ids is not None:
            position = INDEX["link_id"]
            rows = [row for row in rows if row[position] in link_ids]
        field, descending = order
        if field == "call_start":
            if descending:
                rows.reverse()
        else:
            position = INDEX[field]
            if field in NUMERIC:
                rows.sort(key=lambda row: int(row[position] or 0), reverse=descending)
            else:
                rows.sort(key=itemgetter(position), reverse=descending)
        self._cache[key] = rows
        if len(self._cache) > 16:
            self._cache.popitem(last=False)
        return rows


def _category_xml(selection: Selection, link_id: str, items: CategoryItems) -> str:
    out: list[str] = []
    for group, parts in selection.categories.items():
        container, element = CATEGORY_GROUPS[group]
        found = items(link_id) if group == "cat" else ()
        if not found:
            out.append(f"<{container}/>")
            continue
        out.append(f"<{container}>")
        for category_id, label, value in found:
            chosen = {"category_id": category_id, "label": label, "value": value}
            inner = "".join(f"<{part}>{escape(chosen[part])}</{part}>" for part in parts)
            out.append(f"<{element}>{inner}</{element}>")
        out.append(f"</{container}>")
    return "".join(out)


def render_xml_rows(
    rows: Sequence[Row], selection: Selection, items: CategoryItems, dirty: Set[str] = frozenset()
) -> list[str]:
    """One ``<result>...</result>`` string per row.

    ``dirty`` holds the ids of rows whose text needs XML escaping; every other row
    is formatted as it is, which keeps a 20,000-row page cheap.
    """
    getter = selection.getter
    if not selection.categories:
        template = "<result>" + selection.template + "</result>"
        if selection.everything and not dirty:
            return [template % row for row in rows]
        return [
            template % (tuple(selection.values(row)) if row[0] in dirty else getter(row))
            for row in rows
        ]
    template = "<result>" + selection.template + "%s</result>"
    link_position = INDEX["link_id"]
    cache: dict[str, str] = {}
    out = []
    for row in rows:
        link_id = row[link_position]
        extra = cache.get(link_id)
        if extra is None:
            extra = cache[link_id] = _category_xml(selection, link_id, items)
        values = selection.values(row) if row[0] in dirty else list(getter(row))
        out.append(template % (*values, extra))
    return out


def json_rows(
    rows: Sequence[Row], selection: Selection, items: CategoryItems
) -> list[dict[str, Any]]:
    """One JSON-ready dict per row (a lone category unwrapped, as the API does)."""
    getter = selection.getter
    fields = selection.fields
    if not selection.categories:
        return [dict(zip(fields, getter(row), strict=True)) for row in rows]
    out = []
    link_position = INDEX["link_id"]
    for row in rows:
        data: dict[str, Any] = dict(zip(fields, getter(row), strict=True))
        for group, parts in selection.categories.items():
            container, element = CATEGORY_GROUPS[group]
            found = items(row[link_position]) if group == "cat" else ()
            entries = [
                {
                    part: value
                    for part, value in zip(_PART_ORDER, item, strict=True)
                    if part in parts
                }
                for item in found
            ]
            if not entries:
                data[container] = ""
            else:
                data[container] = {element: entries[0] if len(entries) == 1 else entries}
        out.append(data)
    return out


# -- metrics --------------------------------------------------------------------------

METRIC_NAMES: dict[str, str] = {
    "tc": "total_calls",
    "acpd": "ave_calls_per_day",
    "tct": "total_call_time",
    "tcts": "total_call_time_sec",
    "act": "ave_call_time",
    "acts": "ave_call_time_sec",
    "ttt": "total_talk_time",
    "ttts": "total_talk_time_sec",
    "att": "ave_talk_time",
    "atts": "ave_talk_time_sec",
    "tuc": "total_unique_callers",
    "tun": "total_unique_nodes",
    "tul": "total_unique_links",
}
GROUP_NAMES: dict[str, str] = {
    "cdate": "call_date",
    "cweekd": "call_weekday",
    "cmonth": "call_month",
    "co": "call_origin",
    "coe": "call_origin_encoded",
    "vn": "voxnumber",
    "cd": "call_destination",
    "detail": "detail",
    "call_res": "call_result",
    "nid": "node_id",
    "ntype": "node_type",
    "lid": "link_id",
    "lname": "link_name",
    "ltype": "link_type",
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _group_value(row: Row, group: str) -> str:
    start = row[INDEX["call_start"]]
    if group == "cdate":
        return start[:10]
    if group == "cmonth":
        return start[:7]
    if group == "cweekd":
        return _WEEKDAYS[dt.date.fromisoformat(start[:10]).weekday()]
    return row[INDEX[GROUP_NAMES[group]]]


def metrics(
    rows: Sequence[Row], metrics_wanted: Sequence[str], groups: Sequence[str], days: int
) -> list[dict[str, str]]:
    """One aggregate result per group (one result in all without groups)."""
    buckets: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        buckets.setdefault(tuple(_group_value(row, group) for group in groups), []).append(row)
    if not groups and not buckets:
        buckets[()] = []
    results = []
    for key in sorted(buckets):
        bucket = buckets[key]
        count = len(bucket)
        call_time = sum(int(row[INDEX["call_time_sec"]]) for row in bucket)
        talk_time = sum(int(row[INDEX["talk_time_sec"]]) for row in bucket)
        values = {
            "tc": str(count),
            "acpd": f"{count / max(1, days):.2f}",
            "tct": hms(call_time),
            "tcts": str(call_time),
            "act": hms(call_time // count if count else 0),
            "acts": str(call_time // count if count else 0),
            "ttt": hms(talk_time),
            "ttts": str(talk_time),
            "att": hms(talk_time // count if count else 0),
            "atts": str(talk_time // count if count else 0),
            "tuc": str(len({row[INDEX["call_origin"]] for row in bucket})),
            "tun": str(len({row[INDEX["node_id"]] for row in bucket})),
            "tul": str(len({row[INDEX["link_id"]] for row in bucket})),
        }
        result = {METRIC_NAMES[name]: values[name] for name in metrics_wanted}
        for group, value in zip(groups, key, strict=True):
            result[GROUP_NAMES[group]] = value
        results.append(result)
    return results
