"""getCallData pages decoded straight to CSV or JSON lines: the exports' route.

An export writes each value as :func:`.cdrs.api_text` writes its typed value. For a
value the API sends in its canonical form (``180``, ``1``, ``2026-10-01 08:30:05``)
that text is the API's own, so an export need not build an ``int``, a ``bool`` or a
``datetime`` only to turn it back into the same text. Formatting a ``datetime`` costs
more than decoding it, and both cost more than the rest of a CSV row.

This route decodes a JSON page with one msgspec call into rows of the API's texts, in
the export's column order. It vouches for them a column at a time, in C-speed passes
with no Python step per value, and makes each row its line: CSV joined in C
(:func:`.cdrs.csv_lines`), or JSON encoded by msgspec (the fields the row has, in the
spec's order, as the typed rows hold them). What it vouches for:

- every typed value is in canonical form: an integer in digits without a leading
  zero, a flag ``0`` or ``1``, a call time ``YYYY-MM-DD HH:MM:SS`` that exists;
- the row has no field beyond the export's columns, and no value is other than
  text (a number, ``null``, nested categories).

Where it cannot vouch, it declines, and the page is decoded by the typed path (its
fast path, else the generic one), whose rows :func:`.cdrs.text_lines` or
:func:`.cdrs.json_line` turn into lines with :func:`.cdrs.api_text`. That can
happen for a value that is not canonical, a body above
:data:`~iovox_async._fastjson.ONE_PASS_BYTES`, or an XML answer. Either way the same
rows give the same bytes, and the typed path raises the same errors on values that
do not convert.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from .._catalog import METHODS
from .._convert import Shape, shape_for
from .._fastjson import ONE_PASS_BYTES, ROWS_PER_DECODE, fast_json, keyed_struct
from .._steps import run_steps
from .cdrs import (
    CDR_FIELDS,
    CDR_TYPES,
    OTHER_FIELDS_DROPPED,
    ExportFormat,
    PageRoute,
    csv_lines,
    has_other_fields,
    json_line,
    page_rows,
    text_lines,
)

if TYPE_CHECKING:
    from .._client import AsyncIovox

logger = logging.getLogger("iovox_async")

_METHOD = METHODS["Calls"]["getCallData"]

_SEPARATOR = "\x1f"
_FLAGS = frozenset({"0", "1"})
_LEADING_ZERO = re.compile("\x1f0[0-9]")
_MOST_DIGITS = 18
"""Integers longer than this are left to the typed path (it reads every int64)."""
_NUMERALS = bytes.maketrans(b"0123456789", b"9999999999")
_MOMENT_MASK = b"9999-99-99 99:99:99"
"""A call time as ``str(datetime)`` writes it, every digit a 9."""
_MOMENTS: Any = list[Annotated[dt.datetime, msgspec.Meta(tz=False)]]


def _digits(values: list[str]) -> bool:
    """Integers in the digits ``str(int)`` writes (no sign, no leading zero)."""
    given = list(filter(None, values))
    digits = "".join(given)
    if not (digits.isascii() and digits.isdigit()):
        return False
    if max(map(len, given), default=0) > _MOST_DIGITS:
        return False
    return _LEADING_ZERO.search(_SEPARATOR + _SEPARATOR.join(given)) is None


def _moments(values: list[str]) -> bool:
    """Call times as ``str(datetime)`` writes them, each a moment that exists."""
    given = list(filter(None, values))
    try:
        shapes = _SEPARATOR.join(given).encode("ascii").translate(_NUMERALS)
        msgspec.convert(given, _MOMENTS)  # the date and time exist
    except (UnicodeEncodeError, msgspec.ValidationError):
        return False
    # strftime, not str(), writes a year below 1000.
    return shapes == b"\x1f".join([_MOMENT_MASK] * len(given)) and min(given, default="1") >= "1"


def _flags(values: list[str]) -> bool:
    return _FLAGS.issuperset(filter(None, values))  # empty or absent: no flag


_CANONICAL: dict[str, Callable[[list[str]], bool] | None] = {
    "string": None,
    "integer": _digits,
    "boolean": _flags,
    "datetime": _moments,
}
"""Whether a column of a spec type is in the text its typed values are written as
(``None``: any text is)."""


class TextRows(list[str]):
    """The CSV lines of a page's rows, and the rows' ids in the same order."""

    __slots__ = ("ids",)

    def __init__(self, lines: Iterable[str] = (), ids: Iterable[str] = ()) -> None:
        super().__init__(lines)
        self.ids: list[str] = list(ids)


def _struct(name: str, fields: Sequence[tuple[str, Any, Any]]) -> Any:
    """A ``Struct`` with these fields (name, type, default) and no others."""
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, gc=False)


class _TextPages:
    """The JSON path (see :class:`~iovox_async._fastjson.JsonPath`) of pages whose rows
    become lines of ``format``: CSV of ``columns`` (an absent field is empty), or JSON
    objects of the fields present, in ``columns`` order."""

    def __init__(self, columns: Sequence[str], format: ExportFormat) -> None:
        absent: Any = "" if format == "csv" else msgspec.UNSET
        row: Any = keyed_struct("_TextRow", dict.fromkeys(columns, str), absent)
        results = _struct("_TextResults", [("result", list[row] | row | None, None)])
        counts = [(name, int | None, None) for name in ("current_page", "total_pages")]
        content = _struct(
            "_TextContent",
            [*counts, ("total_results", int | None, None), ("results", results | None, None)],
        )
        envelope = _struct("_TextEnvelope", [("response", content, msgspec.NODEFAULT)])
        self._decoder = msgspec.json.Decoder(envelope, strict=False)
        self._csv = format == "csv"
        self._width = len(columns)
        self._encode = msgspec.json.Encoder().encode
        self._id = attrgetter(f"f{columns.index('id')}")
        self._checks = [
            (attrgetter(f"f{index}"), check)
            for index, name in enumerate(columns)
            if (check := _CANONICAL[CDR_TYPES[name]]) is not None
        ]

    def _lines(self, rows: list[Any]) -> list[str]:
        if self._csv:
            return csv_lines(rows, self._width, msgspec.structs.astuple)
        # No line of JSON holds a line break (it is escaped), so the lines split back.
        return b"\n".join(map(self._encode, rows)).decode("utf-8").split("\n")

    def steps(self, body: bytes) -> Generator[None, None, dict[str, Any] | None]:
        lines = yield from self._text_steps(body)
        if lines is not None:
            return lines
        # Declined: the typed rows of the typed fast path (whose key order a JSON line
        # keeps), else the generic path's, as any getCallData call gets them.
        typed = fast_json(shape_for(_METHOD))
        return None if typed is None else (yield from typed.steps(body))

    def _text_steps(self, body: bytes) -> Generator[None, None, dict[str, Any] | None]:
        if len(body) > ONE_PASS_BYTES:  # one C call would hold the loop too long
            return None
        try:
            decoded: Any = self._decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        yield
        content = decoded.response
        found = None if content.results is None else content.results.result
        if not isinstance(found, list):
            found = [] if found is None else [found]
        rows = TextRows()
        for start in range(0, len(found), ROWS_PER_DECODE):
            chunk = found[start : start + ROWS_PER_DECODE]
            for column, canonical in self._checks:
                if not canonical(list(map(column, chunk))):
                    return None
            rows += self._lines(chunk)
            rows.ids += map(self._id, chunk)
            yield
        page: dict[str, Any] = {"results": {"result": rows}}
        for name in ("current_page", "total_pages", "total_results"):
            value = getattr(content, name)
            if value is not None:
                page[name] = value
        return page

    def decode(self, body: bytes) -> dict[str, Any] | None:
        return run_steps(self.steps(body))


@dataclass(frozen=True)
class TextRoute:
    """Pages of getCallData as lines of ``format`` (see the module docs)."""

    columns: tuple[str, ...]
    format: ExportFormat
    shape: Shape

    async def fetch(self, client: AsyncIovox, **params: Any) -> dict[str, Any]:
        """One page: its rows are :class:`TextRows`, or the typed path's dicts."""
        return await client._invoke_as(_METHOD, {"output": "JSON", **params}, self.shape)

    def rows(self, page: dict[str, Any]) -> TextRows:
        """The page's rows as lines, whichever path decoded it."""
        found = page_rows(page)  # type: ignore[arg-type]
        if isinstance(found, TextRows):
            return found
        if self.format == "jsonl":
            return TextRows(map(json_line, found), map(_ROW_ID, found))
        if has_other_fields(found, frozenset(self.columns)):  # the text path declines these
            logger.warning(OTHER_FIELDS_DROPPED)
        return TextRows(text_lines(found, self.columns), map(_ROW_ID, found))

    def pages(self) -> PageRoute:
        """This route as the window reader takes it."""
        return PageRoute(self.fetch, self.rows, _LINE_IDS)


_ROW_ID = itemgetter("id")
_LINE_IDS: Any = attrgetter("ids")


_SCALARS = tuple(name for name in CDR_FIELDS if name in CDR_TYPES)
"""The CDR fields that hold one value, in the spec's order (the typed rows' order)."""


@lru_cache(maxsize=16)
def text_route(columns: tuple[str, ...], format: ExportFormat = "csv") -> TextRoute | None:
    """The route for an export of ``columns`` (the fields of the range's first row) to
    ``format``; ``None`` where a column is not one the route reads as text (nested
    categories, a field the spec does not list)."""
    if "id" not in columns or any(CDR_TYPES.get(name) not in _CANONICAL for name in columns):
        return None
    # A JSON line holds the fields its row has, in the spec's order, as typed rows do.
    fields = columns if format == "csv" else _SCALARS
    typed = shape_for(_METHOD)
    shape = Shape(typed.label, typed.elements, typed.force_list)
    shape.fast = _TextPages(fields, format)
    return TextRoute(fields, format, shape)


__all__ = ["TextRoute", "TextRows", "text_route"]
