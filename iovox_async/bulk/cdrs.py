"""getCallData pages and CDR rows: fetching and decoding a page, and writing rows as text.

The windowed, exact iteration over a range lives in :mod:`.windows`; the jobs that
export, resume and sync build on both.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from anyio.lowlevel import checkpoint

from .._catalog import METHODS
from .._errors import ValidationError
from .._files import discard, temporary_path
from .._spec import ElementSpec
from ..interfaces.calls import CallDataResponse, CallDataResult

if TYPE_CHECKING:
    from .._client import AsyncIovox

logger = logging.getLogger("iovox_async")

ExportFormat = Literal["csv", "jsonl"]

DEFAULT_PAGE_SIZE = 2000
"""Rows per page. Larger pages mean fewer requests but more memory per page in flight."""
DEFAULT_PREFETCH = 4
"""Pages fetched ahead of the one being yielded."""
MAX_PAGE_SIZE = 20000


def _result_elements() -> tuple[ElementSpec, ...]:
    for element in METHODS["Calls"]["getCallData"].response:
        if element.name == "results":
            for child in element.children:
                if child.name == "result":
                    return child.children
    return ()


CDR_FIELDS = tuple(element.name for element in _result_elements())
"""The CDR fields in the spec's order (CSV columns follow it)."""
CDR_TYPES = {
    element.name: element.type
    for element in _result_elements()
    if not element.children and not element.repeated
}
"""The spec type of each CDR field that holds one value (nested categories are not here)."""

_WRITTEN_AS_IS = frozenset(
    element.name
    for element in _result_elements()
    if element.type in ("string", "integer") and not element.children and not element.repeated
)
"""CDR fields whose values (text, ``int`` or ``None``) the csv module writes just as
:func:`api_text` does, so a CSV row needs no call for them."""
_AS_IS_TYPES = frozenset({str, int, type(None)})


def page_rows(page: CallDataResponse) -> list[CallDataResult]:
    """The rows of one decoded ``getCallData`` page (always a list of dicts)."""
    return page.get("results", {}).get("result", [])


CdrRow = CallDataResult
"""One CDR as the client decodes it: typed values (``int``, ``datetime``, ``bool``)."""


async def fetch_page(client: AsyncIovox, **params: Any) -> CallDataResponse:
    """One page of typed rows. JSON unless the caller chose ``output``: it decodes
    faster than XML and converts to the very same rows."""
    return await client.calls.get_call_data(**{"output": "JSON", **params})


@dataclass(frozen=True, slots=True)
class PageRoute:
    """How a window's pages are fetched and read: ``fetch(client, **params)`` gets a
    page, ``rows(page)`` its rows and ``ids(rows)`` their ids. The iterator reads
    typed rows (:data:`TYPED_ROWS`); a CSV export reads CSV lines (:mod:`.cdrtext`)."""

    fetch: Callable[..., Awaitable[Any]]
    rows: Callable[[Any], list[Any]]
    ids: Callable[[list[Any]], Iterable[Any]]


def _row_ids(rows: list[CallDataResult]) -> Iterable[Any]:
    return map(itemgetter("id"), rows)


TYPED_ROWS = PageRoute(fetch_page, page_rows, _row_ids)


FILTER_NAMES = frozenset(param.name for param in METHODS["Calls"]["getCallData"].query) - {
    "page",
    "limit",
}


def check_filters(filters: dict[str, Any], page_size: int, prefetch: int) -> None:
    """Reject arguments that would break paging."""
    for name in ("page", "limit"):
        if name in filters:
            raise ValidationError(f"{name} is set by the bulk iterator; use page_size")
    unknown = sorted(set(filters) - FILTER_NAMES)
    if unknown:
        known = ", ".join(sorted(FILTER_NAMES))
        raise ValidationError(f"getCallData has no filter {', '.join(unknown)}; known: {known}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if prefetch < 1:
        raise ValidationError("prefetch must be at least 1")


# -- export ---------------------------------------------------------------------------


def api_text(value: Any) -> str:
    """A value as the API writes it: the one place rows become text.

    Strings stay as they are; ``datetime`` is ``YYYY-MM-DD HH:MM:SS``, ``date``
    ``YYYY-MM-DD``, ``bool`` ``1``/``0`` (as CDRs carry it), ``None`` empty, numbers
    their digits and nested values (categories) compact JSON. An export is therefore
    the same bytes whether the rows were decoded as text or as typed values.
    """
    kind = value.__class__
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    whole_second = kind is dt.datetime and not value.microsecond and value.tzinfo is None
    if whole_second and value.year >= 1000:
        return str(value)  # the same text, several times faster than strftime
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (dict, list)):
        return json.dumps(api_json(value), ensure_ascii=False, separators=(",", ":"))
    return str(value)


def api_json(value: Any) -> Any:
    """A row (or nested value) with every scalar as :func:`api_text` writes it."""
    if isinstance(value, dict):
        return {key: api_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_json(item) for item in value]
    return api_text(value)


_BOOLEAN_TEXT: dict[Any, str] = {True: "1", False: "0", None: ""}
"""api_text of a flag, or of ``None``."""
_MICROSECOND = attrgetter("microsecond")
_TZINFO = attrgetter("tzinfo")
_YEAR = attrgetter("year")
_NONE = type(None)


def _column_text(name: str, values: list[Any]) -> list[str]:
    """One column of rows as :func:`api_text` writes it, in C-level passes where the
    column's type allows: ``str()`` writes an ``int`` as its digits and a ``datetime``
    of whole seconds as ``YYYY-MM-DD HH:MM:SS``, as :func:`api_text` does."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return values
    if kinds <= {bool, _NONE}:
        return list(map(_BOOLEAN_TEXT.__getitem__, values))
    as_is = kinds <= _AS_IS_TYPES and (name in _WRITTEN_AS_IS or kinds <= {str, _NONE})
    if not as_is and kinds <= {dt.datetime, _NONE}:
        moments = list(filter(None, values))
        whole = not any(map(_MICROSECOND, moments)) and not any(map(_TZINFO, moments))
        as_is = whole and min(map(_YEAR, moments), default=1000) >= 1000
    if not as_is:
        return list(map(api_text, values))
    if _NONE in kinds:
        return ["" if value is None else str(value) for value in values]
    return list(map(str, values))


_QUOTED = ',"\n\r'
"""What makes a CSV value quoted: the csv module's minimal quoting, and a carriage
return too (the csv module writes that one bare with ``\\n`` line ends, and then
cannot read its own line back)."""


def _csv_value(value: str) -> str:
    if any(character in value for character in _QUOTED):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_line(row: Sequence[str]) -> str:
    if len(row) == 1 and not row[0]:
        return '""'  # a line holding one empty value, told apart from an empty line
    return ",".join(map(_csv_value, row))


def csv_lines(
    items: Sequence[Any], width: int, row: Callable[[Any], Sequence[str]] = tuple
) -> list[str]:
    """The CSV line of each item's ``row(item)`` (``width`` texts), without its line
    break. (``row`` makes each row only while its line is joined, so no row outlives
    it: a chunk of rows kept alive would wake the garbage collector over and over.)

    Values are quoted as ``csv.writer(handle, lineterminator="\\n")`` quotes them, and
    so is one holding a carriage return, so every line reads back as its row. The lines
    are joined in C; only when that text shows a value to quote (one holding a quote,
    a line break or a comma of its own, or a lone empty value) are they made a value
    at a time.
    """
    lines = list(map(",".join, map(row, items)))
    joined = "".join(lines)
    plain = (
        width > 1
        and '"' not in joined
        and "\n" not in joined
        and "\r" not in joined
        and joined.count(",") == len(lines) * (width - 1)
    )
    return lines if plain else list(map(_csv_line, map(row, items)))


class CsvRows:
    """Writes rows as CSV lines, every value as :func:`api_text` writes it, a column
    of a batch of rows at a time (see :meth:`write_many`).

    With ``columns`` the header is the caller's business (parts of one export share
    it); without, the header is written from the first row, in the spec's order.
    """

    def __init__(self, handle: TextIO, columns: Sequence[str] | None = None) -> None:
        self._handle = handle
        self._columns: list[str] = list(columns or ())
        self._known: frozenset[str] = frozenset(self._columns)
        self._started = columns is not None
        self._warned = False

    def finish(self) -> None:
        if not self._started:  # an empty range still gets its header
            self._started = True
            self._handle.write(header_text("csv", CDR_FIELDS))

    def write(self, row: Mapping[str, Any]) -> None:
        self.write_many([row])

    def write_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write ``rows``: each column is read from all of them, turned into text in
        one pass, and the lines are written in one call."""
        if not rows:
            return
        if not self._started:
            self._started = True
            first = rows[0]
            self._columns = [name for name in CDR_FIELDS if name in first]
            self._columns += [name for name in first if name not in CDR_FIELDS]
            self._known = frozenset(self._columns)
            self._handle.write(header_text("csv", self._columns))
        if not self._warned and has_other_fields(rows, self._known):
            self._warned = True
            logger.warning(OTHER_FIELDS_DROPPED)
        self._handle.write("\n".join(text_lines(rows, self._columns)) + "\n")


class TextLines:
    """Writes lines made already (CSV by :func:`text_lines` or :func:`csv_lines`, JSON
    by :func:`json_line`), each with a line break; a CSV header is the caller's."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def finish(self) -> None:
        pass

    def write_many(self, lines: Sequence[str]) -> None:
        if lines:
            self._handle.write("\n".join(lines) + "\n")


OTHER_FIELDS_DROPPED = "CSV export: a row has fields the first row lacked; they are dropped"


def has_other_fields(rows: Sequence[Mapping[str, Any]], known: frozenset[str]) -> bool:
    """Whether any of ``rows`` has a field outside ``known`` (a CSV export drops it)."""
    return not all(map(known.issuperset, rows))


def text_lines(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    """The CSV line of each row: the :func:`api_text` of its ``columns`` (a missing
    field is empty), turned into text a column at a time."""
    texts = []
    for name in columns:
        try:
            values = list(map(itemgetter(name), rows))
        except KeyError:
            values = [row.get(name) for row in rows]
        texts.append(_column_text(name, values))
    return csv_lines(list(zip(*texts, strict=True)), len(columns))


class JsonlRows:
    """Writes rows as JSON lines, every scalar as :func:`api_text` writes it."""

    def __init__(self, handle: TextIO, columns: Sequence[str] | None = None) -> None:
        self._handle = handle

    def finish(self) -> None:
        pass

    def write_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._handle.write("\n".join(map(json_line, rows)) + "\n")

    def write(self, row: Mapping[str, Any]) -> None:
        self.write_many([row])


def json_line(row: Mapping[str, Any]) -> str:
    """A row as one line of JSON (without its line break), every scalar as
    :func:`api_text` writes it."""
    # Most values are text already: only the others pay for a call.
    data = {key: value if value.__class__ is str else api_json(value) for key, value in row.items()}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def row_writer(
    format: ExportFormat, handle: TextIO, columns: Sequence[str] | None = None
) -> CsvRows | JsonlRows:
    """The writer for ``format`` (CSV without a header when ``columns`` are given)."""
    return CsvRows(handle, columns) if format == "csv" else JsonlRows(handle)


def header_text(format: ExportFormat, columns: Sequence[str]) -> str:
    """The first line of an export with these columns ("" for JSON lines)."""
    if format != "csv":
        return ""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue()


_SUFFIX_FORMATS: dict[str, ExportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def export_format(path: Path, format: str | None) -> ExportFormat:
    """The export format: as given, or from the file's suffix.

    A suffix that names neither format (``.xlsx``, none at all) is refused rather than
    written as CSV under a name that promises something else.
    """
    if format is None:
        chosen = _SUFFIX_FORMATS.get(path.suffix.lower())
        if chosen is None:
            raise ValidationError(
                f"cannot tell the export format of {path.name!r} from its suffix: use .csv,"
                " .jsonl or .ndjson, or give the format ('csv' or 'jsonl')"
            )
        return chosen
    if format not in ("csv", "jsonl"):
        raise ValidationError(f"format must be 'csv' or 'jsonl', got {format!r}")
    return format  # type: ignore[return-value]


ROWS_PER_WRITE = 1000
"""Rows a writer takes in one :meth:`CsvRows.write_many` call, between turns of the loop."""


async def _each(rows: AsyncIterator[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(rows, AsyncIterator):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


async def batched(
    rows: AsyncIterator[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
) -> AsyncIterator[list[Mapping[str, Any]]]:
    """``rows`` (sync or async) in lists of :data:`ROWS_PER_WRITE`."""
    batch: list[Mapping[str, Any]] = []
    async for row in _each(rows):
        batch.append(row)
        if len(batch) == ROWS_PER_WRITE:
            yield batch
            batch = []
    if batch:
        yield batch


async def write_batches(
    batches: AsyncIterator[Sequence[Any]],
    writer: CsvRows | TextLines | JsonlRows,
    on_rows: Callable[[int], object] | None = None,
) -> int:
    """Write every batch of rows through ``writer``, :data:`ROWS_PER_WRITE` rows at a
    time with a turn of the event loop between; return the rows. ``on_rows(count)``
    after each write."""
    count = 0
    async for batch in batches:
        for start in range(0, len(batch), ROWS_PER_WRITE):
            chunk = batch[start : start + ROWS_PER_WRITE]
            writer.write_many(chunk)
            count += len(chunk)
            if on_rows is not None:
                on_rows(len(chunk))
            await checkpoint()
    return count


async def write_rows(
    rows: AsyncIterator[dict[str, Any]] | Iterable[dict[str, Any]],
    path: str | os.PathLike[str],
    format: str | None = None,
) -> int:
    """Write rows to ``path`` as CSV or JSON lines; the file appears only when complete."""
    target = Path(path)
    chosen = export_format(target, format)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(target)
    try:
        try:
            handle = temporary.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        except OSError as error:  # name the file asked for, not the temporary one
            raise OSError(error.errno, f"cannot write {target}: {error.strerror}") from None
        with handle:
            sink = row_writer(chosen, handle)
            count = await write_batches(batched(rows), sink)
            sink.finish()
        os.replace(temporary, target)
    finally:
        discard(temporary)  # still there only if something failed
    return count


__all__ = [
    "CDR_FIELDS",
    "CDR_TYPES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PREFETCH",
    "OTHER_FIELDS_DROPPED",
    "TYPED_ROWS",
    "CdrRow",
    "CsvRows",
    "ExportFormat",
    "JsonlRows",
    "PageRoute",
    "TextLines",
    "api_json",
    "api_text",
    "batched",
    "check_filters",
    "csv_lines",
    "export_format",
    "fetch_page",
    "has_other_fields",
    "header_text",
    "json_line",
    "page_rows",
    "row_writer",
    "text_lines",
    "write_batches",
    "write_rows",
]
